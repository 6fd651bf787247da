// Swagger UI at /docs, started from a file: the page's CSP allows no inline script.
"use strict";

// The session's CSRF token (the page's meta tag): "Try it out" requests that change something
// are sent with the sign-in cookie, so they need it, like the dashboard's own.
const csrf = document.querySelector('meta[name="csrf-token"]');

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
  requestInterceptor: (request) => {
    if (csrf) request.headers["X-CSRF-Token"] = csrf.content;
    return request;
  },
});
