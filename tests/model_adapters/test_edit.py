"""Generate-then-edit rounds on hand-made logits: which tokens are re-masked, what the trace records."""

from __future__ import annotations

import pytest
import torch

from model_adapters._engine import TraceRecorder, denoise
from model_adapters._settings import DecodingSettings
from tests.model_adapters._handmade import SPECIAL, dist

DRAFT = [dist(0.9), dist(0.8), dist(0.7), dist(0.6)]  # draft: token 1 everywhere, positions 0, 1, 2, 3 in order
# Scoring pass (whole draft visible): probability of the current token 1 is .9, .9, .1, .5.
SCORE = [dist(0.9, 0.1), dist(0.9, 0.1), dist(0.1, 0.9), dist(0.5, 0.5)]
# Re-prediction pass (chosen positions masked): p2 now proposes token 2, p3 token 1 again.
REPREDICT = [dist(0.9, 0.1), dist(0.9, 0.1), dist(0.1, 0.9), dist(0.6, 0.4)]


def _scripted(calls: list[list[list[float]]]):  # noqa: ANN202
    """Logits that follow ``calls`` in order, one table per forward pass (the last repeats)."""
    count = [0]

    def logits_fn(canvas: torch.Tensor, start: int, end: int) -> torch.Tensor:
        table = torch.tensor(calls[min(count[0], len(calls) - 1)])
        count[0] += 1
        return torch.log(table[start - 2 : end - 2].clamp_min(1e-12)).unsqueeze(0).expand(canvas.shape[0], -1, -1)

    return logits_fn


def _run(**settings):  # noqa: ANN003, ANN202
    recorder = TraceRecorder(1, 4, "cpu")
    resolved = DecodingSettings(steps=4, **settings).resolve(4)
    out = denoise(_scripted([DRAFT] * 4 + [SCORE, REPREDICT]), torch.tensor([[3, 4]]), resolved, SPECIAL, None,
                  recorder)
    return out, recorder


def test_edit_k_remasks_the_least_confident_and_records_the_change() -> None:
    out, rec = _run(edit_rounds=1, edit_k=1)
    assert out.canvas.tolist() == [[1, 1, 2, 1]]
    assert rec.first_step.tolist() == [[0, 1, 2, 3]]
    assert rec.final_step.tolist() == [[0, 1, 5, 3]]  # step 4 scored, step 5 re-predicted
    assert rec.n_changes.tolist() == [[1, 1, 2, 1]]
    assert out.nfe.tolist() == [6]


def test_repredicting_the_same_token_is_not_a_change() -> None:
    out, rec = _run(edit_rounds=1, edit_k=2)  # p2 (.1) and p3 (.5); p3 comes back as token 1
    assert out.canvas.tolist() == [[1, 1, 2, 1]]
    assert rec.final_step.tolist() == [[0, 1, 5, 3]]
    assert rec.n_changes.tolist() == [[1, 1, 2, 1]]


def test_edit_threshold_and_k_combine() -> None:
    _, rec = _run(edit_rounds=1, edit_threshold=0.95)  # every position scores below .95: all re-masked
    assert rec.n_changes.tolist() == [[1, 1, 2, 1]]
    seen = []

    def spy(canvas: torch.Tensor, start: int, end: int) -> torch.Tensor:
        seen.append(canvas[0, 2:].tolist())
        return inner(canvas, start, end)

    inner = _scripted([DRAFT] * 4 + [SCORE, REPREDICT])
    resolved = DecodingSettings(steps=4, edit_rounds=1, edit_k=3, edit_threshold=0.6).resolve(4)
    denoise(spy, torch.tensor([[3, 4]]), resolved, SPECIAL)
    assert seen[-1] == [1, 1, 0, 0]  # below .6 are p2 and p3 only, though k allows three


def test_two_rounds_count_four_forward_passes() -> None:
    out, rec = _run(edit_rounds=2, edit_k=1)
    assert out.nfe.tolist() == [8]
    assert rec.final_step.tolist() == [[0, 1, 5, 3]]  # round two re-predicts p2 as token 2 again: no change


# ---------------------------------------------------------------- LLaDA2.1 token-to-token editing inside decoding
ONES = [dist(0.8, 0.2), dist(0.7, 0.3), dist(0.6, 0.4)]
FIRST = [dist(0.9, 0.1), *ONES]  # token 1 everywhere, below threshold 0.95, most confident first
SWAP0 = [dist(0.3, 0.7), *ONES]  # p0 now prefers token 2 (0.7 > editing 0.6)
STEADY = [dist(0.1, 0.9), *ONES]  # agrees with the canvas once p0 is token 2
SWAP3 = [dist(0.1, 0.9), *ONES[:2], dist(0.3, 0.7)]  # after the masks: p3 prefers token 2


def _t2t(calls: list, **settings):  # noqa: ANN001, ANN003, ANN202
    recorder = TraceRecorder(1, 4, "cpu")
    resolved = DecodingSettings(schedule="threshold_count", threshold=0.95, editing_threshold=0.6, **settings)
    out = denoise(_scripted(calls), torch.tensor([[3, 4]]), resolved.resolve(4), SPECIAL, None, recorder)
    return out, recorder


def test_in_block_editing_replaces_a_committed_token_and_the_trace_says_so() -> None:
    # Step 0 commits p0 (token 1); step 1 edits p0 to token 2 while committing p1; steps 2, 3 commit p2, p3;
    # step 4 (after the masks) changes nothing, which ends the block.
    out, rec = _t2t([FIRST, SWAP0, STEADY, STEADY, STEADY])
    assert out.canvas.tolist() == [[2, 1, 1, 1]]
    assert rec.first_step.tolist() == [[0, 1, 2, 3]]
    assert rec.final_step.tolist() == [[1, 1, 2, 3]]  # p0's last change differs from its first commit
    assert rec.n_changes.tolist() == [[2, 1, 1, 1]]
    assert out.nfe.tolist() == [5]


def test_edits_after_the_masks_are_filled_take_post_steps_up_to_the_cap() -> None:
    calls = [FIRST, SWAP0, STEADY, STEADY, SWAP3, STEADY]
    out, rec = _t2t(calls, max_post_steps=2)  # step 4 edits p3, step 5 changes nothing
    assert out.canvas.tolist() == [[2, 1, 1, 2]] and out.nfe.tolist() == [6]
    assert rec.final_step.tolist() == [[1, 1, 2, 4]] and rec.n_changes.tolist() == [[2, 1, 1, 2]]
    out, rec = _t2t(calls, max_post_steps=1)  # the one post step edits p3, then the cap ends the block
    assert out.canvas.tolist() == [[2, 1, 1, 2]] and out.nfe.tolist() == [5]
    out, rec = _t2t(calls, max_post_steps=0)  # no pass after the masks: p3 keeps its first token
    assert out.canvas.tolist() == [[2, 1, 1, 1]] and out.nfe.tolist() == [4]


def test_a_high_editing_threshold_edits_nothing() -> None:
    # p0's new preference (token 2 at 0.7) stays below 0.75: committed tokens keep their first value.
    resolved = DecodingSettings(schedule="threshold_count", threshold=0.95, editing_threshold=0.75).resolve(4)
    recorder = TraceRecorder(1, 4, "cpu")
    out = denoise(_scripted([FIRST, SWAP0]), torch.tensor([[3, 4]]), resolved, SPECIAL, None, recorder)
    assert out.canvas.tolist() == [[1, 1, 1, 1]] and recorder.n_changes.tolist() == [[1, 1, 1, 1]]
    assert out.nfe.tolist() == [5]  # four commits, then one pass that changes nothing


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"editing_threshold": 1.5}, "editing_threshold must be in"), ({"max_post_steps": -1}, "max_post_steps"),
     ({"editing_threshold": 0.5, "early_stop": "settled"}, "does not combine")],
)
def test_editing_settings_are_validated_up_front(settings, message) -> None:
    with pytest.raises(ValueError, match=message):
        DecodingSettings.from_mapping({k: str(v) for k, v in settings.items()}).resolve(8)
