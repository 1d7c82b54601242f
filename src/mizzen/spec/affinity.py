"""Kubernetes ``affinity`` as users write it under ``environment`` (Mizzen's own models)."""

from typing import Literal

from pydantic import Field

from mizzen.spec.base import Int, SpecModel, Str, StrMap


class NodeSelectorRequirement(SpecModel):
    key: Str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[Str] | None = None


class NodeSelectorTerm(SpecModel):
    match_expressions: list[NodeSelectorRequirement] | None = None
    match_fields: list[NodeSelectorRequirement] | None = None


class NodeSelector(SpecModel):
    # Required, as the API server requires it: `requiredDuringScheduling...: {}` is rejected there.
    node_selector_terms: list[NodeSelectorTerm] = Field(min_length=1)


class PreferredSchedulingTerm(SpecModel):
    weight: Int
    preference: NodeSelectorTerm


class NodeAffinity(SpecModel):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] | None = None


class LabelSelectorRequirement(SpecModel):
    key: Str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[Str] | None = None


class LabelSelector(SpecModel):
    match_labels: StrMap | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class PodAffinityTerm(SpecModel):
    topology_key: Str
    label_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    namespaces: list[Str] | None = None
    match_label_keys: list[Str] | None = None
    mismatch_label_keys: list[Str] | None = None


class WeightedPodAffinityTerm(SpecModel):
    weight: Int
    pod_affinity_term: PodAffinityTerm


class PodAffinity(SpecModel):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] | None = None
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] | None = None


class AffinitySpec(SpecModel):
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None
