"""Every example printed, in the documentation build, the result its text promises.

Run by ``.ci/run`` right after the documentation build, not by the unit
suite::

    sphinx-build -W --keep-going -b html docs docs/_build/html
    python -m pytest docs/tests

The build runs each example in ``examples/`` as its small run (``SMALL_RUNS``
in ``examples/_data.py``: training size ``SKAE_EXAMPLE_N_TRAIN`` and
``SKAE_EXAMPLE_MAX_EPOCHS``, one setting for each example) and keeps what it
printed in the page's source, ``docs/auto_examples/<example>.rst``. Each
example prints its key numbers; the check registered for it below parses
them and asserts what a reader takes from the example and the user guide
says of it (the autoencoder beats PCA, the denoiser removes noise, the 7s
score as anomalies, ...). An example without a check fails
``test_every_example_has_a_check``.

Each small run trains long enough for its claim to hold by a margin: a
model stopped after 2 epochs reconstructs every digit as the mean digit, and
a check on it could not tell a working example from a broken one. The runs
are seeded (``random_state``), so each prints the same numbers every time on
one machine; the margins leave room for other platforms and library versions
(see "Measured" below).
"""

import importlib.util
import json
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
GALLERY = ROOT / "docs" / "auto_examples"  # where the documentation build runs them
BUILD = "sphinx-build -W --keep-going -b html docs docs/_build/html"

_spec = importlib.util.spec_from_file_location("_examples_data", ROOT / "examples" / "_data.py")
examples_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(examples_data)
SMALL_RUNS = examples_data.SMALL_RUNS

# A decimal number as the examples print it, or the nan / inf that a broken
# computation prints (parsed, so that a finiteness check fails clearly).
NUMBER = r"([-+]?(?:\d+\.?\d*(?:e[-+]?\d+)?|nan|inf))"

CHECKS = {}


def check(stem, **env):
    """Register the check of ``examples/<stem>.py``, run with the settings ``env``.

    ``env`` repeats the example's ``SMALL_RUNS`` entry (a test holds them
    equal): the numbers measured below are those of this run.
    """

    def register(func):
        CHECKS[stem] = (env, func)
        return func

    return register


def numbers(pattern, out):
    """The numbers of the first line matching ``pattern``; ``{}`` stands for a number."""
    match = re.search(pattern.replace("{}", NUMBER), out)
    assert match, f"no line matching {pattern!r} in the example's output:\n{out}"
    values = [float(group) for group in match.groups()]
    assert all(math.isfinite(v) for v in values), f"not finite: {match.group(0)!r}"
    return values if len(values) > 1 else values[0]


def table(pattern, out):
    """``{key: value}`` from every line matching ``pattern`` (an int, then a number)."""
    rows = re.findall(pattern.replace("{}", NUMBER), out)
    assert rows, f"no line matching {pattern!r} in the example's output:\n{out}"
    result = {int(key): float(value) for key, value in rows}
    assert all(math.isfinite(v) for v in result.values()), result
    return result


# The mean training digit, output whatever the input, is the baseline a
# trained model has to beat on MNIST: on the test images the examples use it
# scores a reconstruction MSE of 0.064, a PSNR of 11.9 dB and, as a Bernoulli
# model without a latent code, a log-likelihood of -200 nats per image.
#
# "Measured" below: the numbers printed with the settings given, then the
# range over the examples rerun with random_state=1 and 2 in place of 0 (a
# stand-in for the drift between platforms and library versions).


@check("plot_pca_vs_autoencoder", SKAE_EXAMPLE_MAX_EPOCHS="60")
def check_pca_vs_autoencoder(out):
    # Measured: MSE PCA 0.0246, autoencoder 0.0150 (ratio 0.56 to 0.61);
    # accuracy 0.900 and 0.904 (0.884 to 0.933).
    pca_mse, pca_acc = numbers(r"PCA: test reconstruction MSE {}, accuracy on codes {}", out)
    ae_mse, ae_acc = numbers(r"autoencoder: test reconstruction MSE {}, accuracy on codes {}", out)
    assert 0 < ae_mse < 0.8 * pca_mse, "the autoencoder reconstructs better than PCA"
    # Ten classes, chance is 0.1: both 8-value codes keep what tells digits apart.
    assert pca_acc > 0.8
    assert ae_acc > 0.8


@check("plot_custom_network", SKAE_EXAMPLE_MAX_EPOCHS="80")
def check_custom_network(out):
    # Measured: PCA 0.0246, built-in dense 0.0135, custom conv encoder 0.0152
    # (conv / PCA 0.60 to 0.66).
    pca = numbers(r"PCA: test reconstruction MSE {}", out)
    dense = numbers(r"built-in dense: test reconstruction MSE {}", out)
    conv = numbers(r"custom conv encoder: test reconstruction MSE {}", out)
    # The custom encoder is trained: it reconstructs better than PCA, as the
    # built-in network does; and the model file gives back the same model.
    assert 0 < dense < 0.8 * pca
    assert 0 < conv < 0.85 * pca
    assert re.search(r"loaded from the model file: same codes True", out), out


@check("plot_denoising_mnist", SKAE_EXAMPLE_N_TRAIN="6000", SKAE_EXAMPLE_MAX_EPOCHS="12")
def check_denoising(out):
    # Measured: noisy 9.37 dB, denoised 16.63 dB; PCA 14.77 dB, median
    # filter 14.11 dB. The convolutional network outputs about the mean digit
    # for its first ~170 updates; 12 epochs of 47 updates are well past that
    # (3 000 images for 12 epochs gave 14.01 dB, below both baselines).
    noisy, denoised = numbers(r"PSNR noisy {} dB, denoised {} dB", out)
    pca, median = numbers(r"PSNR PCA \(32 components\) {} dB, median filter 3x3 {} dB", out)
    # What the example shows: the denoiser beats both baselines it prints.
    assert denoised > max(pca, median) + 0.5
    assert 8 < noisy < 11, "Gaussian noise of standard deviation 0.5, clipped"
    # The denoised digits are closer to the clean ones than the noisy input
    # is, and than the mean digit (11.9 dB) that a network ignoring its input
    # would output.
    assert denoised > noisy + 3
    assert denoised > 12.9


@check("plot_sparse_activity", SKAE_EXAMPLE_N_TRAIN="2000", SKAE_EXAMPLE_MAX_EPOCHS="50")
def check_sparse_activity(out):
    # Measured, without / with the penalty: sparsity_ 0.45 / 0.92 (0.39 to
    # 0.45 / 0.90 to 0.92), active units 37.6 / 7.0 (37.6 to 40.5 / 5.7 to
    # 8.4), test MSE 0.0264 / 0.0304 (0.0246 to 0.0264 / 0.0298 to 0.0321).
    line = r"sparsity_weight={}: sparsity_ {}, {} of 64 units active per digit, test MSE {}"
    rows = {w: rest for w, *rest in re.findall(line.replace("{}", NUMBER), out)}
    assert set(rows) == {"0", "0.001"}, out
    (s0, active0, mse0), (s1, active1, mse1) = ([float(v) for v in rows[w]] for w in ("0", "0.001"))
    assert all(math.isfinite(v) for v in (s0, active0, mse0, s1, active1, mse1)), out
    # Both models reconstruct (the mean digit scores 0.064) ...
    assert mse0 < 0.045
    assert mse1 < 0.05
    # ... the penalty costs a little of that: less than a quarter of the mean
    # digit's error (with the default settings 0.0081 -> 0.0173) ...
    assert mse1 < mse0 + 0.015
    # ... and buys a sparse code: most units silent for each digit, not all.
    assert 0 < s0 < 1 and 0 < s1 < 1
    assert s1 > s0 + 0.2
    assert 1 <= active1 < active0 / 2


@check("plot_vae_sampling", SKAE_EXAMPLE_N_TRAIN="3000", SKAE_EXAMPLE_MAX_EPOCHS="30")
def check_vae_sampling(out):
    # Measured: ELBO -162.1 (-162.1 to -161.4), spread across the grid 0.078
    # (0.075 to 0.081); while the decoder still outputs about the mean digit
    # (40 updates) the spread is 0.015, with the default settings 0.123.
    elbo = numbers(r"mean test ELBO: {} nats per image", out)
    # A lower bound of the log-likelihood, above the mean digit's -200 nats.
    assert -185 < elbo < 0
    low, high = numbers(r"16 samples from the prior: pixel intensities in \[{}, {}\]", out)
    assert 0 <= low < high <= 1, "samples are images: intensities in [0, 1]"
    low, high, spread = numbers(
        r"decoded grid: pixel intensities in \[{}, {}\], "
        r"mean standard deviation across the grid {}",
        out,
    )
    assert 0 <= low < high <= 1
    # The decoder uses its latent code: the grid morphs through different digits.
    assert spread > 0.05


@check("plot_anomaly_scores", SKAE_EXAMPLE_N_TRAIN="3000", SKAE_EXAMPLE_MAX_EPOCHS="100")
def check_anomaly_scores(out):
    # Measured (2026-12-04, 100 epochs, the best held-out epoch of a network
    # trained on 2 403 of the 2 671 images): ROC AUC PCA 0.648, autoencoder
    # 0.686 (pca_start_='network'), VAE 0.652; flagged 20.4 % of the 7s and
    # 6.9 % of the other digits.
    assert "autoencoder pca_start_='network'" in out, out
    auc = {
        name: numbers(rf"{name}: ROC AUC {{}}", out)
        for name in ("PCA reconstruction error", "autoencoder reconstruction error")
    }
    auc["VAE"] = numbers(r"VAE negative ELBO: ROC AUC {}", out)
    # Every score ranks the 7s above the other digits, better than chance (0.5),
    # and the trained network's better than PCA's, as the example says.
    assert auc["PCA reconstruction error"] > 0.6
    assert auc["autoencoder reconstruction error"] > auc["PCA reconstruction error"] + 0.03
    assert auc["VAE"] > 0.55
    sevens, others = numbers(
        r"threshold at 1% of training images flagged: {}% of the 7s and {}% "
        r"of the other test digits flagged",
        out,
    )
    # The detector flags the anomalies far more often than the normal digits;
    # more than 1 % of the unseen normal digits, since the threshold comes from
    # the training images the network fitted (the example says so), but a
    # minority of them.
    assert sevens > 2 * others
    assert others < 20


@check("plot_outlier_detection")
def check_outlier_detection(out):
    # Measured (2026-12-05, threshold from held-out rows): flagged 2.1 % of the
    # held-out training rows, 10.0 % of the test 7s and 0.9 % of the other test
    # digits; ROC AUC autoencoder 0.760, PCA(16) 0.857, IsolationForest 0.841;
    # breast cancer 0.931. (2026-12-04, threshold from in-sample scores: 6.0 %
    # of the other test digits flagged at contamination=0.02.)
    train, sevens, others = numbers(
        r"flagged {}% of the held-out training rows, {}% of the test 7s and {}% of the other",
        out,
    )
    # contamination=0.02: 2 % of the held-out rows, to rounding and ties, and
    # no more than about 2 % of new normal rows (the training 7s take part of
    # the 2 %).
    assert abs(train - 2.0) <= 0.5
    assert others <= 3.0
    # The flagged test rows are mostly 7s: far more of them than of the rest.
    assert sevens > 3 * others
    auc = {
        name: numbers(rf"{name}: ROC AUC {{}}", out)
        for name in ("autoencoder", "PCA\\(16\\) reconstruction error", "IsolationForest")
    }
    # Every detector ranks the 7s well above the other digits (0.5: chance).
    assert min(auc.values()) > 0.75, auc
    assert numbers(r"ROC AUC of the \d+ malignant against \d+ benign test rows {}", out) > 0.85


@check("plot_grid_search_n_components", SKAE_EXAMPLE_MAX_EPOCHS="40")
def check_grid_search(out):
    # Measured: best accuracy 0.877 (0.877 to 0.896); MSE at width 16 over
    # width 2: 0.54 (0.49 to 0.54); chosen width 8 (8 in all three). After 20
    # epochs width 16 reconstructed worse than width 8, and the gallery's
    # figure contradicted its text: 40 epochs.
    widths = [2, 4, 8, 16]
    accuracy = table(r"n_components=\s*(\d+): cross-validated accuracy {}", out)
    mse = table(r"n_components=\s*(\d+): cross-validated reconstruction MSE {}", out)
    assert list(accuracy) == widths and list(mse) == widths, out
    # With labels: the search picks the width of the best accuracy, far above
    # chance (0.1).
    best = int(numbers(r"with labels: best n_components={}", out))
    assert accuracy[best] == max(accuracy.values())
    assert accuracy[best] > 0.75
    # Without labels: the score is minus the error, so the search's best is the
    # width of the lowest error, and a wider code reconstructs better ...
    lowest = int(numbers(r"without labels: best_params_ \(lowest error\) n_components={}", out))
    assert mse[lowest] == min(mse.values())
    assert all(0 < v < 0.1 for v in mse.values())
    assert mse[16] < 0.85 * mse[2]
    # ... and the chosen width is the smallest within 10 % of the lowest error
    # (up to the 4 decimals printed).
    chosen = int(
        numbers(r"without labels: smallest n_components within 10% of the best error: {}", out)
    )
    assert chosen in widths
    assert mse[chosen] <= 1.1 * min(mse.values()) + 1e-4
    assert all(mse[k] > 1.1 * min(mse.values()) - 1e-4 for k in widths if k < chosen)


@check("plot_ordered_search", SKAE_EXAMPLE_MAX_EPOCHS="40")
def check_ordered_search(out):
    # Measured (2026-12-07, 2-core AMD EPYC, one torch thread, random_state=0):
    # separate fits 0.679 / 0.875 / 0.912 / 0.944 at 2 / 4 / 8 / 16 units, the
    # ordered fit's prefixes 0.658 / 0.846 / 0.912 / 0.949; both chose 16.
    widths = [2, 4, 8, 16]
    accuracy = {
        name: table(rf"{name} n_components=\s*(\d+): cross-validated accuracy {{}}", out)
        for name in ("separate fits", "ordered fit")
    }
    assert all(list(acc) == widths for acc in accuracy.values()), out
    for name, acc in accuracy.items():
        # Each search picks the width of its best accuracy, far above chance (0.1),
        best = int(numbers(rf"{name}: best n_components={{}}", out))
        assert acc[best] == max(acc.values())
        assert acc[best] > 0.85
        # and a wider code classifies better, from 2 to 16 units.
        assert acc[16] > acc[2] + 0.1
    # The prefixes of one ordered fit classify about as well as separate fits
    # (the user guide: within a few points at the smallest widths).
    for k in widths:
        assert accuracy["ordered fit"][k] > accuracy["separate fits"][k] - 0.06, (k, accuracy)


@check("plot_supervised_codes")
def check_supervised_codes(out):
    # Measured (2026-12-07, the documentation build of .ci/run, random_state=0):
    # test accuracy on 2 codes PCA 0.589, unsupervised 0.700, target_weight=1.0
    # 0.947; MSE PCA 0.0530, unsupervised 0.0330, supervised 0.0383; predict
    # 0.953 (2026-12-05, before the head's linear start: 0.947, MSE 0.0421,
    # predict 0.962).
    rows = {
        name: numbers(rf"{name}: test accuracy {{}}, test reconstruction MSE {{}}", out)
        for name in ("PCA", "unsupervised", "target_weight=1.0")
    }
    (pca_acc, pca_mse), (ae_acc, ae_mse), (sup_acc, sup_mse) = rows.values()
    # What the picture says: trained with the labels, two codes tell the ten
    # digits apart far better than PCA's or the unsupervised ones (chance 0.1) ...
    assert sup_acc > 0.85
    assert sup_acc > max(pca_acc, ae_acc) + 0.1
    # ... and still reconstruct the digits better than PCA does (the text's
    # "price of supervision"), less well than the unsupervised code.
    assert 0 < ae_mse < sup_mse < 0.9 * pca_mse
    assert numbers(r"predict on the test digits: accuracy {}", out) > 0.8


def test_every_example_has_a_check():
    assert len(EXAMPLES) >= 4
    missing = sorted({p.stem for p in EXAMPLES} - set(CHECKS))
    assert not missing, f"examples without a check of their printed results: {missing}"
    stale = sorted(set(CHECKS) - {p.stem for p in EXAMPLES})
    assert not stale, f"checks of examples that do not exist: {stale}"


def test_checks_run_the_small_runs_of_the_documentation():
    # The documentation build draws the gallery with SMALL_RUNS; the checks
    # (and the numbers measured in their comments) are of the same runs.
    assert set(SMALL_RUNS) == {p.stem for p in EXAMPLES}
    for stem, (env, _) in CHECKS.items():
        assert env == SMALL_RUNS[stem], f"{stem}: the check's settings are not SMALL_RUNS[{stem!r}]"


def output_of_documentation_build(script):
    """What the documentation build's run of ``script`` printed.

    Fails where the build did not run it as its small run, on the same
    example, ``_data.py`` and skae sources as now (the record the build
    writes next to the page says how it ran).
    """
    record_file = GALLERY / f"{script.stem}.small_run.json"
    page = GALLERY / f"{script.stem}.rst"
    if not (record_file.is_file() and page.is_file()):
        pytest.fail(f"{script.name} was not run by a documentation build: run `{BUILD}`")
    record = json.loads(record_file.read_text())
    expected = examples_data.run_record(script.stem, SMALL_RUNS[script.stem])
    if record != expected:
        pytest.fail(
            f"the documentation build ran {script.name} as {record}, not as its small run "
            f"now ({expected}): run `{BUILD}` again"
        )
    # sphinx-gallery writes each cell's output as an indented literal block
    # after ".. rst-class:: sphx-glr-script-out".
    blocks = re.findall(
        r"^\.\. rst-class:: sphx-glr-script-out\n\n \.\. code-block:: none\n\n((?:(?: {4}.*)?\n)+)",
        page.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    out = "".join(re.sub(r"^ {4}", "", block, flags=re.MULTILINE) for block in blocks)
    assert out, f"{page} shows no output of {script.name}"
    return out


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example(script):
    if script.stem not in CHECKS:
        pytest.fail(f"{script.name} has no check in {Path(__file__).name}")
    _, check_output = CHECKS[script.stem]
    check_output(output_of_documentation_build(script))
