"""Runs of a kind whose operator (CRD) is missing fail at submit, saying which operator to install."""

from __future__ import annotations

from tests.executors.kubernetes.fixtures import MakeKube
from tests.executors.kubernetes.support import NS, pod_names, pytorch_plan
from tests.executors.support import Recorder, new_run

from k8s_double import K8sDouble
from k8s_double.crds import crd_dir
from mizzen.compiler.plan import RunKind
from mizzen.render.k8s import run_object_name
from mizzen.schemas.statuses import RunStatus

S = RunStatus
NEEDS_KUBEFLOW = (
    "pytorchjob needs the Kubeflow training operator (CRD pytorchjobs.kubeflow.org); "
    "install it: https://github.com/kubeflow/training-operator"
)


def test_a_missing_operator_fails_the_run_naming_what_to_install(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    k8s_double.remove_crd("pytorchjobs.kubeflow.org")
    kube = make_kube()
    missing = kube.check_operators()
    assert missing == {RunKind.PYTORCHJOB: NEEDS_KUBEFLOW}
    assert RunKind.PYTORCHJOB not in kube.capabilities.kinds
    assert kube.capabilities.notes == {"pytorchjob": NEEDS_KUBEFLOW}
    assert {RunKind.JOB, RunKind.SERVICE, RunKind.TFJOB} <= kube.capabilities.kinds

    run = new_run()
    kube.submit(run, pytorch_plan())
    assert kube.wait(run.uuid, 10) == S.FAILED
    final = recorder.last(run.uuid)
    assert (final.reason, final.message) == ("operator missing", NEEDS_KUBEFLOW)
    assert recorder.statuses(run.uuid) == [S.QUEUED, S.FAILED]
    assert k8s_double.list("v1", "Secret", NS, label_selector=f"mizzen.dev/run-uuid={run.uuid}") == []


def test_an_operator_installed_later_is_seen_at_the_next_submit(
    make_kube: MakeKube, k8s_double: K8sDouble, recorder: Recorder
) -> None:
    k8s_double.remove_crd("pytorchjobs.kubeflow.org")
    kube = make_kube()
    assert RunKind.PYTORCHJOB in kube.check_operators()
    k8s_double.install_crd(crd_dir() / "kubeflow.org_pytorchjobs.yaml")
    run = new_run()
    kube.submit(run, pytorch_plan(workers=1))
    assert len(pod_names(k8s_double, "PyTorchJob", run_object_name("pytorchjob", run.uuid), 2)) == 2
    assert kube.check_operators() == {}
