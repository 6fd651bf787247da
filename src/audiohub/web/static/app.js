// Audio Magic Hub dashboard: the two things a page cannot do without script, the player's
// seeking and the upload's progress. Everything else is plain links and forms.
"use strict";

function seekTo(seconds) {
  const player = document.getElementById("player");
  if (!player || Number.isNaN(seconds)) return;
  player.currentTime = seconds;
  const playing = player.play();
  if (playing) playing.catch(() => {}); // no audio device, or autoplay refused: the seek stands
}

function highlight(number) {
  document.querySelectorAll("mark.active").forEach((m) => m.classList.remove("active"));
  const marks = [...document.querySelectorAll("mark[data-ev]")]
    .filter((m) => m.dataset.ev.split(" ").includes(number));
  marks.forEach((m) => m.classList.add("active"));
  if (marks.length) marks[0].scrollIntoView({ block: "center", behavior: "smooth" });
}

document.addEventListener("click", (event) => {
  // The error page's "Go back": the previous page when there is one (the link itself leads to
  // the calls), without a javascript: URL, which the CSP refuses.
  const back = event.target.closest("a[data-back]");
  if (back && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
    return;
  }
  const target = event.target.closest("[data-seek], [data-ev]");
  if (!target) return;
  if (target.dataset.ev && target.tagName !== "MARK") highlight(target.dataset.ev);
  if (target.dataset.seek !== undefined && target.dataset.seek !== "") {
    seekTo(parseFloat(target.dataset.seek));
  }
});

// --- upload: one progress bar per file, then the job's status until its call can be opened ---

function row(file) {
  const li = document.createElement("li");
  li.className = "job";
  li.innerHTML = '<span class="file"></span><progress max="1" value="0"></progress>' +
    '<span class="status">uploading</span><span class="link"></span>';
  li.querySelector(".file").textContent = file.name;
  document.getElementById("uploads").appendChild(li);
  return li;
}

function show(li, status, progress, detail) {
  li.className = "job " + status;
  li.querySelector(".status").textContent = detail ? status + ": " + detail : status;
  if (progress !== undefined) li.querySelector("progress").value = progress;
}

function follow(li, jobId, single) {
  fetch("/api/jobs/" + jobId).then((r) => r.json()).then((job) => {
    show(li, job.status, job.progress, job.error && job.error.detail);
    if (job.status === "done" && job.call_id) {
      const a = document.createElement("a");
      a.className = "button";
      a.href = "/ui/calls/" + job.call_id;
      a.textContent = "Open the call";
      li.querySelector(".link").replaceChildren(a);
      if (single) window.location.assign(a.href);
    } else if (job.status !== "failed") {
      setTimeout(() => follow(li, jobId, single), 1000);
    }
  }).catch(() => setTimeout(() => follow(li, jobId, single), 2000));
}

function upload(file, single, keyterms) {
  const li = row(file);
  const body = new FormData();
  body.append("file", file, file.name);
  if (keyterms) body.append("keyterms", keyterms);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/jobs");
  // The session's CSRF token (base.html's meta tag): a signed-in browser's API posts need it.
  const csrf = document.querySelector('meta[name="csrf-token"]');
  if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf.content);
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) show(li, "uploading", (e.loaded / e.total) * 0.05);
  };
  xhr.onload = () => {
    let answer = {};
    try { answer = JSON.parse(xhr.responseText); } catch (_) { /* not JSON: shown below */ }
    if (xhr.status === 202 || xhr.status === 200) {
      show(li, answer.status || "queued", 0.05);
      follow(li, answer.job_id, single);
    } else {
      show(li, "failed", 1, answer.detail || "the server answered " + xhr.status);
    }
  };
  xhr.onerror = () => show(li, "failed", 1, "the upload did not reach the server; try again");
  xhr.send(body);
}

const form = document.getElementById("upload");
if (form) {
  const input = form.querySelector("input[type=file]");
  const drop = form.querySelector(".drop");
  const start = (files) => {
    const list = [...files];
    const keyterms = form.elements.keyterms ? form.elements.keyterms.value.trim() : "";
    list.forEach((f) => upload(f, list.length === 1, keyterms));
    form.reset();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.files.length) start(input.files);
  });
  ["dragenter", "dragover"].forEach((name) => drop.addEventListener(name, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => {
    drop.classList.remove("over");
  }));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files.length) start(e.dataTransfer.files);
  });
}
