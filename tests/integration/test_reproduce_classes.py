"""Fig. 3 and Fig. 4 compare trained SAEs with the floor and optimum of the class that contains them (issue 11)."""

from __future__ import annotations

from rdp.reproduce.fig3 import Fig3Config, compute_fig3, summary_lines
from rdp.reproduce.fig4 import Fig4Config


def test_fig3_trains_zero_bias_saes_and_no_statement_is_false() -> None:
    data = compute_fig3(Fig3Config.quick(seeds=1, steps=100, device="cpu"))
    assert data.config.zero_bias and data.sae_class == "real-codes"
    # zero bias: the class floor is the binary D_min, and the class optimum is exact at k = 1
    assert data.d_min_class == data.d_min and data.class_exact
    for r in data.rows:
        assert r["distortion"] >= data.d_star_class_bound - 1e-9  # nobody beats the optimum of its class
        if r["below_mono_staircase"]:
            assert r["distortion"] < r["mono_floor_at_rate"] - 1e-6
    text = " ".join(summary_lines(data))
    assert "can go below D*_k" not in text and "real-codes" in text


def test_fig3_with_trained_biases_uses_the_bias_class_floor() -> None:
    data = compute_fig3(Fig3Config.quick(seeds=1, steps=60, device="cpu", zero_bias=False, class_time_limit=2.0))
    assert data.sae_class == "real-codes+bias"
    assert all(r["below_mono_staircase"] is None for r in data.rows)  # the binary staircase does not bound them
    assert data.d_min_class_bound <= data.d_min + 1e-9
    for r in data.rows:
        assert r["distortion"] >= data.d_star_class_bound - 1e-9
    for line in summary_lines(data):
        if "cannot be monosemantic" in line:
            assert "proven monosemantic floor" in line


def test_fig4_default_is_zero_bias() -> None:
    assert Fig4Config().zero_bias and Fig3Config().zero_bias
