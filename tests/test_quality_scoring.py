"""Known answers for the recommendation-quality scorers: Gaussian divergences, hubness, profiles."""

from __future__ import annotations

import numpy as np
import pytest

from core.features import extract, stereo
from core.library.index import index_library
from core.library.pipeline import run_import
from core.similarity import audio_score, hubness, profiles, timbre_gauss
from core.similarity.pool import Pool, timbre_of
from core.similarity.recommend import Recommender


def _gaussians(*pairs: tuple[np.ndarray, np.ndarray]) -> timbre_gauss.Gaussians:
    means, covs = zip(*pairs, strict=True)
    return timbre_gauss.stack(np.array(means, dtype=float), np.array(covs, dtype=float))


@pytest.mark.parametrize("divergence", [timbre_gauss.symmetric_kl, timbre_gauss.jensen_shannon])
def test_identical_gaussians_have_divergence_zero_and_divergence_is_symmetric(divergence):
    rng = np.random.default_rng(1)
    a = timbre_gauss.fit(rng.normal(size=(400, 5)))
    b = timbre_gauss.fit(rng.normal(2.0, 3.0, size=(300, 5)) @ rng.normal(size=(5, 5)))
    g = _gaussians(a, b, a)
    forward = divergence(g[0], g)
    assert forward[0] == pytest.approx(0.0, abs=1e-9)
    assert forward[2] == pytest.approx(0.0, abs=1e-9)
    assert forward[1] > 0.1
    assert divergence(g[1], g)[0] == pytest.approx(forward[1], rel=1e-9)


def test_symmetric_kl_known_answers_in_one_dimension():
    # KL(N(0,1) || N(1,1)) = KL(N(1,1) || N(0,1)) = 1/2
    shift = _gaussians((np.zeros(1), np.eye(1)), (np.ones(1), np.eye(1)))
    assert timbre_gauss.symmetric_kl(shift[0], shift)[1] == pytest.approx(0.5)
    # N(0,1) vs N(0,4): (1/2 (1/4 - 1 + ln 4) + 1/2 (4 - 1 - ln 4)) / 2 = 0.5625
    spread = _gaussians((np.zeros(1), np.eye(1)), (np.zeros(1), 4 * np.eye(1)))
    assert timbre_gauss.symmetric_kl(spread[0], spread)[1] == pytest.approx(0.5625)


def test_divergence_grows_with_the_distance_between_means():
    g = _gaussians(*[(np.full(3, shift), np.eye(3)) for shift in (0.0, 0.5, 1.0, 2.0)])
    for divergence in (timbre_gauss.symmetric_kl, timbre_gauss.jensen_shannon):
        assert np.all(np.diff(divergence(g[0], g)) > 0)


def test_fit_recovers_mean_and_covariance_and_keeps_short_tracks_invertible():
    rng = np.random.default_rng(2)
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    mean, fitted = timbre_gauss.fit(rng.multivariate_normal([1.0, -3.0], cov, size=20000))
    assert mean == pytest.approx([1.0, -3.0], abs=0.05)
    assert fitted == pytest.approx(cov, abs=0.08)
    _, short = timbre_gauss.fit(rng.normal(size=(3, 10)))  # fewer frames than dimensions
    assert np.linalg.eigvalsh(short).min() > 0
    _, silent = timbre_gauss.fit(np.zeros((50, 4)))
    assert np.linalg.eigvalsh(silent).min() > 0


@pytest.mark.parametrize("frames", [np.empty((0, 4)), np.full((5, 4), np.nan), np.ones(4)])
def test_fit_refuses_bad_frames(frames):
    with pytest.raises(ValueError, match="finite frames"):
        timbre_gauss.fit(frames)


def test_stored_form_round_trips():
    rng = np.random.default_rng(3)
    fitted = [timbre_gauss.fit(rng.normal(size=(100, 6)) * (i + 1)) for i in range(3)]
    back = timbre_gauss.from_docs([timbre_gauss.to_doc(m, c) for m, c in fitted], inverse=True)
    original = _gaussians(*fitted)
    assert back.cov == pytest.approx(original.cov, rel=1e-5, abs=1e-6)
    assert timbre_gauss.symmetric_kl(back[0], back) == pytest.approx(
        timbre_gauss.symmetric_kl(original[0], original), rel=1e-4, abs=1e-6)
    lean = timbre_gauss.from_docs([timbre_gauss.to_doc(m, c) for m, c in fitted])
    assert lean.inv is None and lean.logdet == pytest.approx(original.logdet, rel=1e-5)
    assert timbre_gauss.jensen_shannon(lean[0], lean) == pytest.approx(
        timbre_gauss.jensen_shannon(original[0], original), rel=1e-4, abs=1e-6)


def test_pairwise_matrix_is_symmetric_with_zero_diagonal():
    rng = np.random.default_rng(4)
    g = _gaussians(*[timbre_gauss.fit(rng.normal(i, 1 + i, size=(50, 3))) for i in range(4)])
    matrix = timbre_gauss.pairwise(g)
    assert matrix == pytest.approx(matrix.T)
    assert np.diag(matrix) == pytest.approx(0.0)


def _hub_library() -> np.ndarray:
    """Track 0 is a hub (distance 1 to everyone); 1 and 2 are at distance 1 from each other and
    far (5) from the rest; 3..9 are at distance 3 from one another."""
    n = 10
    d = np.full((n, n), 3.0)
    d[0, :] = d[:, 0] = 1.0
    d[1, 3:] = d[3:, 1] = d[2, 3:] = d[3:, 2] = 5.0
    d[1, 2] = d[2, 1] = 1.0
    np.fill_diagonal(d, 0.0)
    return d


@pytest.mark.parametrize("method", ["mp", "ls"])
def test_hubness_reduction_demotes_a_hub(method):
    d = _hub_library()
    sim = hubness.matrix_similarity(d, method, k=3)
    # by raw distance, track 1 sees the hub and track 2 as equally close
    assert d[1, 0] == d[1, 2]
    # rescaled, its mutual neighbour 2 comes first and the hub second
    assert sim[1, 2] > sim[1, 0]
    assert sim == pytest.approx(sim.T)
    assert ((sim >= 0) & (sim <= 1)).all()


def test_mutual_proximity_of_a_typical_distance_is_a_quarter():
    # a distance at both tracks' mean: each side's chance of a farther track is 1/2
    assert hubness.mutual_proximity(np.array([2.0]), 2.0, 1.0, 2.0, 0.5) == pytest.approx(0.25)


def test_library_stats_leave_out_self_and_refuse_empty_rows():
    stats = hubness.library_stats(np.array([[np.nan, 1.0, 3.0], [1.0, np.nan, 5.0]]), k=1)
    assert stats.mean == pytest.approx([2.0, 3.0])
    assert stats.kth == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="finite distance"):
        hubness.library_stats(np.array([[np.nan, np.nan]]))
    with pytest.raises(ValueError, match="unknown hubness method"):
        hubness.matrix_similarity(np.zeros((2, 2)), "nope")


def test_rhythm_profile_peaks_at_the_period_of_the_onsets():
    frames = 3000
    period = round(0.5 * profiles.FRAME_RATE)  # one onset every half second
    onset = np.zeros(frames)
    onset[::period] = 1.0
    profile = profiles.rhythm(onset)
    edges = np.geomspace(0.1, 4.0, profiles.RHYTHM_BINS + 1)
    half_second_bin = int(np.searchsorted(edges, period / profiles.FRAME_RATE, side="right")) - 1
    # frame rounding can put the peak lag on either side of a bin edge
    assert abs(int(profile.argmax()) - half_second_bin) <= 1
    assert profiles.rhythm(np.zeros(frames)) == pytest.approx(0.0)


def test_loudness_profile_of_a_steady_level_has_no_spread():
    profile = profiles.loudness(np.full(2000, -20.0))
    assert profile[:-1] == pytest.approx(-20.0)
    assert profile[-1] == pytest.approx(0.0)
    rising = profiles.loudness(np.linspace(-40, 0, 2000))
    assert np.all(np.diff(rising[:-1]) > 0) and rising[-1] > 0


def _models(n: int, seed: int = 5) -> audio_score.AudioModels:
    rng = np.random.default_rng(seed)
    timbre = rng.normal(size=(n, 8))
    gauss = _gaussians(*[timbre_gauss.fit(rng.normal(i % 3, 1 + i % 2, size=(80, 4)))
                         for i in range(n)])
    return audio_score.AudioModels(timbre / np.linalg.norm(timbre, axis=1, keepdims=True), gauss,
                                   rng.normal(size=(n, 6)), rng.normal(size=(n, stereo.SIZE)))


def test_audio_score_ranks_a_copy_first_and_stays_in_unit_range():
    models = _models(12)
    distances = np.stack([audio_score.component_distances(models[i], models) for i in range(12)])
    assert distances.shape == (12, 12, len(audio_score.COMPONENTS))
    assert np.diagonal(distances, axis1=0, axis2=1) == pytest.approx(0.0, abs=1e-9)
    off = distances.copy()
    off[np.arange(12), np.arange(12)] = np.nan
    scales = audio_score.neighbour_scales(off, k=3)
    assert scales.shape == (12, len(audio_score.COMPONENTS)) and (scales > 0).all()
    jaccard = np.full(12, 0.1)
    jaccard[4] = 1.0
    scores = audio_score.score(jaccard, distances[4], scales[4], scales)
    assert scores.argmax() == 4 and scores[4] == pytest.approx(1.0)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert sum(audio_score.WEIGHTS.values()) == pytest.approx(1.0)


def test_audio_score_local_scaling_favours_a_mutual_neighbour_over_a_hub():
    # equal raw distances: candidate 0 is a hub (small neighbour scale), candidate 1 is not
    n = len(audio_score.COMPONENTS)
    distances = np.full((2, n), 0.2)
    scores = audio_score.score(np.zeros(2), distances, np.full(n, 0.3),
                               np.array([[0.05] * n, [0.3] * n]))
    assert scores[1] > scores[0]


def test_index_stores_neighbour_scales_and_the_recommender_scores_with_them(generated_library,
                                                                            store):
    run_import(str(generated_library), store, jobs=2)  # analyses, stores the models, indexes
    # what the import compares to re-analyse tracks of an older extractor
    assert {state.features_version for state in store.file_states().values()} == {
        extract.FEATURES_VERSION}
    rec = Recommender(store)
    seed = rec.seed(next(store.iter_tracks({}, {"_id": 1}))["_id"])
    model = store.get_model("audio")
    assert len(model["sample"]) == 16 and model["kmeans_version"] >= 1
    for doc in store.iter_tracks({}, {"audio": 1}):
        assert doc["audio"]["version"] == model["version"]
        assert len(doc["audio"]["scale"]) == len(audio_score.COMPONENTS)
        assert min(doc["audio"]["scale"]) > 0
        assert len(doc["audio"]["stereo"]) == 4 * stereo.SIZE  # float32, standardised
    rec = Recommender(store)
    seed = rec.seed(seed["_id"])
    pool = Pool(rec.candidates(seed, [seed["_id"]]), rec.model())
    assert pool.audio is not None
    models, scales = pool.audio
    ref, ref_scales = audio_score.stored([seed], timbre_of(seed, rec.model())[None, :])
    expected = audio_score.score(pool.jaccard(seed), audio_score.component_distances(ref, models),
                                 ref_scales[0], scales)
    assert pool.similarity(seed).score == pytest.approx(expected)
    top = rec.recommend([seed["_id"]], k=3, max_per_artist=None)
    assert top[0].score == pytest.approx(expected.max(), abs=1e-4)
    # a second index changes nothing: every track is current
    index_library(store)
    assert store.get_model("audio")["version"] == model["version"]


def test_an_audio_model_from_before_the_stereo_image_is_chosen_again():
    # what the index stored before the stereo image: loudness statistics only
    old = {"sample": ["a", "b"], "loudness_mean": [0.0] * 6, "loudness_scale": [1.0] * 6,
           "kmeans_version": 3, "fitted_on": 10, "version": 7}
    assert audio_score.needs_refit(old, 10, 3)
    current = old | {"profiles": {name: {"mean": [0.0], "scale": [1.0]}
                                  for name in audio_score.PROFILES}}
    assert not audio_score.needs_refit(current, 10, 3)
    # and a track indexed then (no stereo in its audio field) makes the pool keep the older blend
    doc = {"features": {"timbre_gauss": timbre_gauss.to_doc(np.zeros(2), np.eye(2))},
           "audio": {"scale": [1.0] * 3, "loudness": np.zeros(6, np.float32).tobytes()}}
    assert audio_score.stored([doc], np.ones((1, 2))) is None


def test_an_audio_sample_whose_tracks_are_all_gone_is_chosen_again(generated_library, store):
    run_import(str(generated_library), store, jobs=2)
    model = store.get_model("audio")
    # as after a rescan that removed every sampled track (ids no track has any more)
    gone = store.put_model("audio", model | {"sample": ["gone-1", "gone-2"]})
    index_library(store)
    chosen = store.get_model("audio")
    assert chosen["version"] > gone and len(chosen["sample"]) == 16
    assert all(doc["audio"]["version"] == chosen["version"]
               for doc in store.iter_tracks({}, {"audio": 1}))


def test_a_profile_the_whole_sample_shares_keeps_its_units():
    # every sampled track mono in the lowest band: its width is -40 dB in all of them
    images = np.random.default_rng(2).normal(size=(5, stereo.SIZE)).astype(np.float32)
    images[:, 0] = stereo.SIDE_FLOOR_DB
    docs = [{"features": {"stereo_image": image.tobytes(),
                          "loudness_profile": np.arange(6, dtype=np.float32).tobytes()}}
            for image in images]
    stats = audio_score.profile_stats(docs)
    assert stats["stereo"]["scale"][0] == 1.0 and stats["loudness"]["scale"] == [1.0] * 6
    assert stats["stereo"]["scale"][1:] == pytest.approx(images[:, 1:].std(axis=0), rel=1e-5)
