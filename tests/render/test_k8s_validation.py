"""The offline validator rejects what a real API server (or an operator's CRD) would reject."""

from __future__ import annotations

import copy
from typing import Any

import k8s_plans
import pytest
from k8s_plans import context

import k8s_schema
from mizzen.render.k8s import render_plan


def job() -> dict[str, Any]:
    return render_plan(k8s_plans.plan(), context())[0]


def pytorchjob() -> dict[str, Any]:
    return render_plan(k8s_plans.pytorchjob(), context())[0]


def daskcluster() -> dict[str, Any]:
    return render_plan(k8s_plans.daskcluster(), context())[0]


def first_problem(obj: dict[str, Any]) -> str:
    found = k8s_schema.problems(obj)
    assert found, "expected the validator to reject the object"
    return "\n".join(found)


def test_rendered_objects_have_no_problems() -> None:
    for obj in (job(), pytorchjob(), daskcluster()):
        assert k8s_schema.problems(obj) == []


def test_unknown_field_of_a_builtin_kind() -> None:
    obj = job()
    obj["spec"]["backofLimit"] = 2
    assert "backofLimit" in first_problem(obj)


def test_unknown_field_in_a_custom_resource_spec() -> None:
    obj = pytorchjob()
    obj["spec"]["runPolicy"]["cleanupPolicy"] = "All"
    assert "cleanupPolicy" in first_problem(obj)


def test_unknown_container_field_inside_a_custom_resource_pod_template() -> None:
    obj = pytorchjob()
    obj["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["containers"][0]["imagee"] = "x"
    assert "imagee" in first_problem(obj)


def test_wrong_type_in_a_crd_field() -> None:
    obj = daskcluster()
    obj["spec"]["scheduler"]["service"]["ports"][0]["targetPort"] = 8786
    assert "targetPort" in first_problem(obj)


def test_bad_metadata_of_a_custom_resource() -> None:
    obj = pytorchjob()
    obj["metadata"]["labelz"] = {}
    assert "labelz" in first_problem(obj)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda o: o["metadata"].update(name="Bad_Name"), "metadata.name"),
        (lambda o: o["metadata"]["labels"].update({"x": "not valid!"}), "not a valid label value"),
        (lambda o: o["metadata"]["labels"].update({"bad key/": "x"}), "labels"),
        (
            lambda o: _main(o)["volumeMounts"].append({"name": "nope", "mountPath": "/n"}),
            "not in the pod's volumes",
        ),
        (lambda o: _main(o)["volumeMounts"].append(dict(_main(o)["volumeMounts"][0])), "must be unique"),
        (lambda o: _main(o).update(resources={"requests": {"nvidia.com/gpu": "1"}}), "extended resource"),
        (lambda o: _main(o).update(resources={"limits": {"cpu": "lots"}}), "not a quantity"),
        (lambda o: _main(o).update(ports=[{"containerPort": 80, "name": "a-very-long-port-name"}]), "IANA"),
        (lambda o: _main(o).update(env=[{"name": "1BAD", "value": ""}]), "variable name"),
        (lambda o: _spec(o)["initContainers"][-1].update(restartPolicy="Never"), "restartPolicy"),
        (lambda o: _spec(o).update(restartPolicy="Always"), "a Job needs Never or OnFailure"),
        (lambda o: _spec(o)["containers"].append(dict(_main(o))), "used by two containers"),
    ],
)
def test_api_server_rules_no_schema_carries(mutate: Any, expected: str) -> None:
    obj = job()
    mutate(obj)
    assert expected in first_problem(obj)


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def _main(obj: dict[str, Any]) -> dict[str, Any]:
    return _spec(obj)["containers"][0]


def test_deployment_selector_must_match_its_pods() -> None:
    deployment = render_plan(k8s_plans.service(), context())[0]
    broken = copy.deepcopy(deployment)
    broken["spec"]["selector"]["matchLabels"]["mizzen.dev/role"] = "other"
    assert "selector" in first_problem(broken)


def test_service_names_are_dns_1035_labels() -> None:
    service = render_plan(k8s_plans.service(), context())[1]
    service["metadata"]["name"] = "1-service"
    assert "metadata.name" in first_problem(service)


def test_a_kind_no_crd_defines_is_an_error() -> None:
    with pytest.raises(k8s_schema.InvalidObject, match="no CRD defines Widget"):
        k8s_schema.problems({"apiVersion": "acme.com/v1", "kind": "Widget", "metadata": {"name": "w"}})


def test_assert_valid_reports_every_problem() -> None:
    obj = job()
    obj["spec"]["bogus"] = 1
    with pytest.raises(k8s_schema.InvalidObject, match="bogus"):
        k8s_schema.assert_valid([obj])
