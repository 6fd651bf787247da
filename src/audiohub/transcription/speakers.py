"""Who said each word, for call-centre stereo recordings with one party per channel.

Decoding keeps each channel's loudness per 10 ms (`DecodedAudio.channel_energy`). A 10 ms frame
belongs to a channel when it is speech and that channel is at least 6 dB louder than the other; a
word belongs to the party that owns clearly most of the frames in its Whisper [start, end], and a
segment to the party of most of its words. Limits: which channel is the agent's is configuration,
never inferred; mono calls, stereo files whose channels carry the same signal (no stretch where
each channel in turn is the louder) and words timed into a pause or across a turn change get no
speaker rather than a guess; two parties sharing one channel are not told apart.
"""

from __future__ import annotations

from collections import Counter
from typing import Literal

import numpy as np
import numpy.typing as npt

from audiohub.domain import Transcript, Word
from audiohub.transcription.audio import ENERGY_RATE, DecodedAudio

# Per 10 ms frame, the owning channel must carry at least 4x the power of the other (6 dB): far
# below the 70+ dB of a clean split recording, well above the few dB two mics of one room differ.
_DOMINANCE = 4.0
# Frames more than 30 dB under the call's speech level are pauses or line noise: they own nothing.
_SPEECH_FLOOR = 1e-3
_SILENCE = 1e-10  # power (-100 dBFS) under which a frame is digital silence whatever the call
# Each channel must own at least this much of the call before anything is labelled: a mono signal
# copied (or panned) to both channels never has each side in turn the louder.
_MIN_SIDE_FRAMES = 50
_MIN_SIDE_SHARE = 0.02
# A word's party must own at least twice the frames the other does: a word stretched over a turn
# change (Whisper extends turn-final words into the pause) stays unlabelled instead of split.
_CLEAR_MAJORITY = 2.0


def assign_speakers(
    transcript: Transcript, audio: DecodedAudio, agent_channel: Literal["left", "right"]
) -> Transcript:
    """Label words and segments "agent"/"customer" from the stereo channels they were loud on.

    Args:
        transcript: the recogniser's transcript of `audio`, with word timings.
        audio: the decoded call; only two-channel input has the `channel_energy` this needs.
        agent_channel: the channel the recorder puts the agent on (STEREO_AGENT_CHANNEL).

    Returns:
        A copy with `Word.speaker` where one channel clearly dominates the word and
        `Segment.speaker` where most of a segment's words share a speaker; `transcript` itself
        when the recording does not keep the parties apart (mono, or one signal on both channels).
    """
    if audio.channel_energy is None:
        return transcript
    owners = _frame_owners(audio.channel_energy)
    if owners is None:
        return transcript
    names = ("agent", "customer") if agent_channel == "left" else ("customer", "agent")
    segments = []
    for seg in transcript.segments:
        words = [w.model_copy(update={"speaker": _word_speaker(owners, w, names)})
                 for w in seg.words]
        segments.append(seg.model_copy(update={"words": words, "speaker": _majority(words)}))
    return transcript.model_copy(update={"segments": segments})


def _frame_owners(energy: npt.NDArray[np.float32]) -> npt.NDArray[np.int8] | None:
    """Per 10 ms frame: 1 left, -1 right, 0 nobody; None if the channels are not two parties."""
    power = np.square(energy)
    louder = power.max(axis=0)
    # The 99th percentile is speech in any call where someone talks 1% of the time; a maximum
    # would follow a single click.
    level = float(np.percentile(louder, 99)) if louder.size else 0.0
    speech = louder >= max(level * _SPEECH_FLOOR, _SILENCE)
    left = speech & (power[0] >= _DOMINANCE * power[1])
    right = speech & (power[1] >= _DOMINANCE * power[0])
    needed = max(_MIN_SIDE_FRAMES, _MIN_SIDE_SHARE * int(speech.sum()))
    if left.sum() < needed or right.sum() < needed:
        return None
    owners = np.zeros(left.shape, dtype=np.int8)
    owners[left], owners[right] = 1, -1
    return owners


def _word_speaker(owners: npt.NDArray[np.int8], word: Word, names: tuple[str, str]) -> str | None:
    # Whisper's word times come in 10-20 ms steps: round, so 0.58 s is frame 58, not 57.
    lo = round(word.start * ENERGY_RATE)
    hi = max(round(word.end * ENERGY_RATE), lo + 1)  # a zero-length word still has one frame
    frames = owners[lo:hi]
    left, right = int((frames == 1).sum()), int((frames == -1).sum())
    if left and left >= _CLEAR_MAJORITY * right:
        return names[0]
    if right and right >= _CLEAR_MAJORITY * left:
        return names[1]
    return None


def _majority(words: list[Word]) -> str | None:
    """The speaker of more than half of the words (unlabelled words count against everyone)."""
    counts = Counter(w.speaker for w in words if w.speaker is not None)
    return next((s for s, n in counts.items() if 2 * n > len(words)), None)
