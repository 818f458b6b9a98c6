"""Client firms and secrets in words on every surface (issue 9, section 3): `slo_definitions/directory.yaml`
names each id the simulator makes, and the pages that show firms or secrets show those names in charts,
tables, pickers and sentences, never the ids (which stay in the URL)."""

from __future__ import annotations

import io
import re

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from app import directory
from stack.simulator import model
from tests.conftest import run_page, texts

FIRMS = model.TENANTS  # what the platform's metrics, logs and audit events carry
SECRETS = tuple(model.SECRETS)
# An id as a word of its own: not inside an actor (`user:cobalt-cpa/admin1`) or an address (`@cobalt-cpa.`).
RAW_IDS = re.compile(
    r"(?<![\w:/@.-])(" + "|".join(re.escape(i) for i in (*FIRMS, *SECRETS)) + r")(?![\w/.-])"
)


def test_the_file_names_every_firm_and_secret_the_simulator_makes():
    for tenant in (*FIRMS, model.PLATFORM_TENANT):
        assert directory.name("tenant", tenant) != tenant, f"{tenant} has no display name"
    for secret in SECRETS:
        assert directory.name("secret", secret) != secret, f"{secret} has no display name"
    assert len({directory.name("tenant", t) for t in FIRMS}) == len(FIRMS), "two firms share a name"


def test_an_id_without_a_name_is_shown_as_itself():
    assert directory.name("tenant", "a-firm-not-yet-listed") == "a-firm-not-yet-listed"
    assert directory.name("label-not-in-the-file", "x") == "x"


def test_a_broken_file_names_the_file_and_the_field(tmp_path):
    bad = tmp_path / "directory.yaml"
    bad.write_text("apiVersion: sextant/v1\nkind: Directory\nspec:\n  tenant:\n    acme-accounts: ''\n")
    with pytest.raises(directory.DirectoryError, match=r"directory.yaml: spec.tenant: acme-accounts"):
        directory.names("tenant", bad)
    bad.write_text("apiVersion: sextant/v1\nkind: Directory\nspec:\n  firm: {}\n")
    with pytest.raises(directory.DirectoryError, match=r"spec.firm: unknown label"):
        directory.names("tenant", bad)


def _shown(at: AppTest) -> list[str]:
    """Everything the page shows as text: sentences, figures, headings, picker options, table cells and
    the values its charts draw."""
    out = [texts(at)]
    out += [f"{m.label} {m.value}" for m in at.metric]
    out += [s.value for s in at.subheader]
    out += [str(o) for box in at.selectbox for o in box.options]
    for table in at.dataframe:
        out += [str(v) for v in table.value.astype(str).to_numpy().ravel()]
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            if dataset.data.data:
                frame = pa.ipc.open_stream(io.BytesIO(dataset.data.data)).read_all().to_pandas()
                out += [str(v) for v in frame.astype(str).to_numpy().ravel()]
    return out


VIEWS = [
    ("pages/6_Tax.py", {}),
    ("pages/6_Tax.py", {"tenant": "cobalt-cpa"}),
    ("pages/8_Readiness.py", {}),
    ("pages/8_Readiness.py", {"tenant": "elm-street"}),
    ("pages/9_Security.py", {}),
    ("pages/11_Logs.py", {}),
    ("pages/11_Logs.py", {"tab": "Audit events"}),
    ("pages/13_Alerts.py", {}),
    ("Overview.py", {}),
    ("pages/3_Weekly_review.py", {}),
]


@pytest.mark.parametrize(("page", "params"), VIEWS, ids=[f"{p}{q}" for p, q in VIEWS])
def test_firms_and_secrets_are_shown_by_name(snapshot_mode, page, params):
    at = run_page(page, **params)
    shown = _shown(at)
    raw = sorted({m for line in shown for m in RAW_IDS.findall(line)})
    assert not raw, f"ids on screen: {raw}"


def test_pickers_offer_names_and_keep_the_id_in_the_url(snapshot_mode):
    at = run_page("pages/8_Readiness.py", tenant="elm-street")
    picker = at.selectbox(key="tenant")
    assert picker.value == "elm-street"  # the URL's id
    assert set(picker.options) >= {directory.name("tenant", t) for t in FIRMS}
    table = next(d.value for d in at.dataframe if "held_back_by" in d.value.columns)
    assert set(table["tenant"]) == {directory.name("tenant", t) for t in FIRMS}
    assert directory.name("tenant", "elm-street") in [s.value for s in at.subheader][-1] or any(
        directory.name("tenant", "elm-street") in s.value for s in at.subheader
    )


def test_tax_per_firm_panels_name_every_firm(snapshot_mode):
    at = run_page("pages/6_Tax.py")
    options = at.selectbox(key="tenant").options
    assert set(options[1:]) == {directory.name("tenant", t) for t in FIRMS}
    drawn = "\n".join(_shown(at))
    for tenant in FIRMS:
        assert directory.name("tenant", tenant) in drawn, tenant


def test_security_lists_each_secret_by_name(snapshot_mode):
    at = run_page("pages/9_Security.py")
    secrets = next(d.value for d in at.dataframe if "days_left" in d.value.columns)
    assert set(secrets["secret"]) == {directory.name("secret", s) for s in SECRETS}
