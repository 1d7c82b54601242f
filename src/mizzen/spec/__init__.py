"""mizzen.spec: polyaxonfile models (pydantic v2, strict) and the loader.

The public surface the compiler and the SDK use; see ``loader`` for how errors are located.

Import time matters (``mizzen check`` builds every model at start-up): the model modules are
written without ``from __future__ import annotations``, so that pydantic gets their annotations
evaluated instead of parsing each annotation string again (about a tenth of the build).
"""

import gc

# Building the models makes tens of thousands of objects that live as long as the process: the
# garbage collector's passes meanwhile would free nothing, so it pauses until they are built, then
# leaves them (and all that was imported before) out of its later passes, which would otherwise
# traverse them again and again (a full pass costs ~25 ms at this size).
_collecting = gc.isenabled()
gc.disable()

try:
    from mizzen.spec.base import SpecModel
    from mizzen.spec.distributions import HpParam
    from mizzen.spec.environment import EnvironmentSpec
    from mizzen.spec.flow import BuildSpec, EventTriggerSpec, HookSpec, JoinSpec, TemplateSpec
    from mizzen.spec.init import InitSpec
    from mizzen.spec.io import IOSpec, ValidationSpec
    from mizzen.spec.k8s import ContainerSpec, ResourceRequirements, VolumeSpec
    from mizzen.spec.lifecycle import CacheSpec, PluginsSpec, TerminationSpec
    from mizzen.spec.loader import Loaded, apply_presets, load_dict, load_file, load_files, load_text
    from mizzen.spec.matrix import EarlyStoppingSpec, MatrixSpec
    from mizzen.spec.params import ParamSpec
    from mizzen.spec.polyaxonfile import (
        ComponentSpec,
        DagOperation,
        DagSpec,
        OperationSpec,
        RunPatchSpec,
        RunSpec,
    )
    from mizzen.spec.runs import (
        CleanerSpec,
        DaskClusterSpec,
        JobSpec,
        MPIJobSpec,
        NotifierSpec,
        PyTorchJobSpec,
        RayClusterSpec,
        RayReplicaSpec,
        ReplicaSpec,
        ServiceSpec,
        TFJobSpec,
        TunerSpec,
    )
    from mizzen.spec.schedules import ScheduleSpec
    from mizzen.spec.sourcemap import SourceMap, format_path, parse_path
finally:
    if _collecting:
        gc.enable()
gc.freeze()

__all__ = [
    "BuildSpec",
    "CacheSpec",
    "CleanerSpec",
    "ComponentSpec",
    "ContainerSpec",
    "DagOperation",
    "DagSpec",
    "DaskClusterSpec",
    "EarlyStoppingSpec",
    "EnvironmentSpec",
    "EventTriggerSpec",
    "HookSpec",
    "HpParam",
    "IOSpec",
    "InitSpec",
    "JobSpec",
    "JoinSpec",
    "Loaded",
    "MPIJobSpec",
    "MatrixSpec",
    "NotifierSpec",
    "OperationSpec",
    "ParamSpec",
    "PluginsSpec",
    "PyTorchJobSpec",
    "RayClusterSpec",
    "RayReplicaSpec",
    "ReplicaSpec",
    "ResourceRequirements",
    "RunPatchSpec",
    "RunSpec",
    "ScheduleSpec",
    "ServiceSpec",
    "SourceMap",
    "SpecModel",
    "TFJobSpec",
    "TemplateSpec",
    "TerminationSpec",
    "TunerSpec",
    "ValidationSpec",
    "VolumeSpec",
    "apply_presets",
    "format_path",
    "load_dict",
    "load_file",
    "load_files",
    "load_text",
    "parse_path",
]
