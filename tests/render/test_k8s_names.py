"""Names and label values derived from anything users type are always accepted by the API server."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from k8s_rules import DNS1035_LABEL, IANA_SVC_NAME, LABEL_VALUE
from mizzen.render.k8s.names import dns_label, label_value, port_name, run_object_name

texts = st.text(min_size=0, max_size=120)


@given(texts)
def test_dns_label_is_always_a_valid_dns_1035_label(value: str) -> None:
    name = dns_label(value)
    assert DNS1035_LABEL.match(name) and len(name) <= 63


@given(texts, texts)
def test_different_inputs_give_different_names(a: str, b: str) -> None:
    if a != b:
        assert dns_label(a) != dns_label(b)


@given(texts)
def test_label_value_is_always_valid(value: str) -> None:
    cleaned = label_value(value)
    assert LABEL_VALUE.match(cleaned) and len(cleaned) <= 63


@given(texts)
def test_port_name_is_always_an_iana_service_name(value: str) -> None:
    name = port_name(value)
    assert IANA_SVC_NAME.match(name) and len(name) <= 15 and "--" not in name
    assert any(c.isalpha() for c in name)


def test_valid_names_are_kept_as_they_are() -> None:
    assert dns_label("init-git-0") == "init-git-0"
    assert label_value("mnist_v2.1") == "mnist_v2.1"
    assert port_name("http") == "http"


def test_run_object_names_carry_kind_and_uuid() -> None:
    assert (
        run_object_name("pytorchjob", "8F2C1D7E-4B6A-4C3D-9E0F-1A2B3C4D5E6F") == "mzn-pytorchjob-8f2c1d7e4b6a"
    )
