"""The HTTP surface: URL parsing and the verbs, as a Starlette app."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import discovery, errors, patching, tables
from .errors import ApiError
from .gc import DeleteOptions
from .logs import LogQuery
from .resources import ResourceType
from .watch import WatchRequest, gone_event

if TYPE_CHECKING:
    from .double import K8sDouble

_TRUE = ("1", "true", "True")


@dataclass
class ResourcePath:
    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_resource_path(double: K8sDouble, path: str) -> ResourcePath:
    segments = [s for s in path.split("/") if s]
    if len(segments) >= 2 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 3 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        raise errors.path_not_found(path)
    namespace = None
    namespace_sub = (
        group == "" and len(rest) == 3 and rest[0] == "namespaces" and rest[2] in ("status", "finalize")
    )
    if len(rest) >= 3 and rest[0] == "namespaces" and not namespace_sub:
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise errors.path_not_found(path)
    rtype = double.registry.by_path(group, version, rest[0])
    if rtype is None:
        raise errors.path_not_found(path)
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    if (namespace is not None and not rtype.namespaced) or (
        name is not None and rtype.namespaced and namespace is None
    ):
        raise errors.path_not_found(path)
    if sub is not None and sub not in rtype.subresources:
        raise errors.path_not_found(path)
    return ResourcePath(rtype, namespace, name, sub)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def error_response(error: ApiError) -> Response:
    return _json(error.status(), error.code, error.headers)


def _int(value: str | None, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise errors.bad_request(f"invalid {field}: {value}") from exc


class HttpApp:
    def __init__(self, double: K8sDouble) -> None:
        self.double = double
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        self.app = Starlette(routes=[Route("/{path:path}", self.endpoint, methods=methods)])

    async def endpoint(self, request: Request) -> Response:
        double = self.double
        path, method, query = request.url.path, request.method, request.query_params
        is_watch = query.get("watch") in _TRUE
        double.requests.append(
            (method, str(request.url.path) + ("?" + request.url.query if request.url.query else ""))
        )
        fault = double.faults.take(method, path, is_watch)
        if fault is not None:
            return error_response(fault)
        try:
            static = self._discovery(path)
            if static is not None:
                return static
            target = parse_resource_path(double, path)
            if target.subresource == "log":
                return await self._logs(target, request)
            body = await request.body()
            if target.name is None:
                return await self._collection(target, request, body, is_watch)
            return self._item(target, request, body)
        except ApiError as error:
            return error_response(error)

    # -- discovery ---------------------------------------------------------------------------
    def _discovery(self, path: str) -> Response | None:
        double, registry = self.double, self.double.registry
        stripped = path.rstrip("/") or "/"
        if stripped == "/version":
            return _json(discovery.version_info(double.kube_version))
        if stripped in ("/healthz", "/readyz", "/livez"):
            return Response("ok", media_type="text/plain")
        if stripped == "/api":
            return _json(discovery.api_versions(double.address))
        if stripped == "/apis":
            return _json(discovery.api_group_list(registry))
        if stripped == "/openapi/v3":
            return _json(discovery.openapi_v3_root(registry))
        if stripped.startswith("/openapi/v3/"):
            parts = stripped[len("/openapi/v3/") :].split("/")
            group, version = (
                ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2] if len(parts) > 2 else "")
            )
            doc = discovery.openapi_v3_group_version(registry, group, version)
            if doc is None:
                raise errors.path_not_found(path)
            return _json(doc)
        if stripped == "/openapi/v2":
            raise errors.path_not_found(path)
        segments = [s for s in stripped.split("/") if s]
        if segments[:1] == ["api"] and len(segments) == 2:
            found = discovery.api_resource_list(registry, "", segments[1])
        elif segments[:1] == ["apis"] and len(segments) == 2:
            found = discovery.api_group(registry, segments[1])
        elif segments[:1] == ["apis"] and len(segments) == 3:
            found = discovery.api_resource_list(registry, segments[1], segments[2])
        else:
            return None
        if found is None:
            raise errors.path_not_found(path)
        return _json(found)

    # -- collections -------------------------------------------------------------------------
    async def _collection(
        self, target: ResourcePath, request: Request, body: bytes, is_watch: bool
    ) -> Response:
        api, query = self.double.api, request.query_params
        rtype = target.rtype
        if request.method == "GET" and is_watch:
            return self._watch(target, request)
        if request.method == "GET":
            return self._list(target, request)
        if request.method == "POST":
            if target.namespace is None and rtype.namespaced:
                raise errors.method_not_allowed()
            obj = api.create(
                rtype, target.namespace or "", _decode(body, request), dry_run=query.get("dryRun") == "All"
            )
            return _json(obj, 201)
        if request.method == "DELETE":
            options = DeleteOptions.parse(_decode(body, request) if body else None, dict(query))
            deleted = self.double.deleter.delete_collection(
                rtype, target.namespace, options, query.get("labelSelector"), query.get("fieldSelector")
            )
            return _json(self._list_body(rtype, deleted, self.double.store.resource_version))
        raise errors.method_not_allowed()

    def _list_body(self, rtype: ResourceType, items: list[dict[str, Any]], rv: int) -> dict[str, Any]:
        if not rtype.is_custom:
            items = [{k: v for k, v in item.items() if k not in ("apiVersion", "kind")} for item in items]
        return {
            "kind": f"{rtype.kind}List",
            "apiVersion": rtype.api_version,
            "metadata": {"resourceVersion": str(rv)},
            "items": items,
        }

    def _list(self, target: ResourcePath, request: Request) -> Response:
        query, double = request.query_params, self.double
        with double.store.lock:
            items = double.api.list(
                target.rtype, target.namespace, query.get("labelSelector"), query.get("fieldSelector")
            )
            rv = double.store.resource_version
        start = 0
        if query.get("continue"):
            try:
                token = json.loads(base64.b64decode(query["continue"]))
                start = int(token["start"])
            except (ValueError, KeyError, TypeError) as exc:
                raise errors.bad_request("continue key is not valid") from exc
            if int(token["rv"]) < double.store.oldest_resumable_rv():
                raise ApiError(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter.",
                )
        limit = _int(query.get("limit"), "limit")
        page = items[start:]
        body = None
        if tables.wants_table(request.headers.get("accept", "")):
            body = tables.table(target.rtype, page, rv)
        if limit and len(page) > limit:
            page = page[:limit]
            token = base64.b64encode(json.dumps({"rv": rv, "start": start + limit}).encode()).decode()
            result = self._list_body(target.rtype, page, rv)
            result["metadata"].update({"continue": token, "remainingItemCount": len(items) - start - limit})
            return _json(result if body is None else tables.table(target.rtype, page, rv, token))
        return _json(body if body is not None else self._list_body(target.rtype, page, rv))

    def _watch(self, target: ResourcePath, request: Request) -> Response:
        query = request.query_params
        watch_request = WatchRequest(
            rtype=target.rtype,
            namespace=target.namespace,
            label_selector=query.get("labelSelector"),
            field_selector=query.get("fieldSelector"),
            resource_version=query.get("resourceVersion"),
            allow_bookmarks=query.get("allowWatchBookmarks") in _TRUE,
            send_initial_events=query.get("sendInitialEvents") in _TRUE,
            timeout_seconds=_int(query.get("timeoutSeconds"), "timeoutSeconds"),
        )
        try:
            stream = self.double.watches.open(watch_request)
        except ApiError as error:
            if error.code == 410:
                return Response(gone_event(error), media_type="application/json")
            raise
        as_table = tables.wants_table(request.headers.get("accept", ""))
        events = tables.table_events(target.rtype, stream.events()) if as_table else stream.events()
        return StreamingResponse(events, media_type="application/json")

    # -- single objects ----------------------------------------------------------------------
    def _item(self, target: ResourcePath, request: Request, body: bytes) -> Response:
        api, deleter, query = self.double.api, self.double.deleter, request.query_params
        rtype, namespace, name = target.rtype, target.namespace or "", target.name or ""
        dry_run = query.get("dryRun") == "All"
        if request.method == "GET":
            obj = api.get(rtype, namespace, name)
            if tables.wants_table(request.headers.get("accept", "")):
                return _json(tables.table(rtype, [obj], self.double.store.resource_version))
            return _json(obj)
        if request.method == "PUT":
            return _json(
                api.update(
                    rtype,
                    namespace,
                    name,
                    _decode(body, request),
                    subresource=target.subresource,
                    dry_run=dry_run,
                )
            )
        if request.method == "PATCH":
            content_type = patching.content_type_of(request.headers.get("content-type"))
            patch = patching.parse_body(body, content_type)
            obj, created = api.patch(
                rtype, namespace, name, patch, content_type, subresource=target.subresource, dry_run=dry_run
            )
            return _json(obj, 201 if created else 200)
        if request.method == "DELETE" and target.subresource is None:
            options = DeleteOptions.parse(_decode(body, request) if body else None, dict(query))
            last, pending = deleter.delete(rtype, namespace, name, options)
            if pending:
                return _json(last, 202)
            if rtype.returns_deleted_object:
                return _json(last)
            details: dict[str, Any] = {"name": name, "kind": rtype.plural, "uid": last["metadata"]["uid"]}
            if rtype.group:
                details["group"] = rtype.group
            return _json(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": details,
                }
            )
        raise errors.method_not_allowed()

    async def _logs(self, target: ResourcePath, request: Request) -> Response:
        query, double = request.query_params, self.double
        if request.method != "GET":
            raise errors.method_not_allowed()
        pod = double.api.get(target.rtype, target.namespace or "", target.name or "")
        log_query = LogQuery(
            container=query.get("container"),
            follow=query.get("follow") in _TRUE,
            tail_lines=_int(query.get("tailLines"), "tailLines"),
            timestamps=query.get("timestamps") in _TRUE,
            previous=query.get("previous") in _TRUE,
            since_seconds=_int(query.get("sinceSeconds"), "sinceSeconds"),
            limit_bytes=_int(query.get("limitBytes"), "limitBytes"),
        )
        container = double.logs.resolve_container(pod, log_query.container)
        double.logs.check_readable(pod, container, log_query.previous)
        if log_query.follow and not log_query.previous:
            return StreamingResponse(double.logs.follow(pod, container, log_query), media_type="text/plain")
        data, _ = double.logs.read(pod, container, log_query)
        if log_query.limit_bytes is not None:
            data = data[: log_query.limit_bytes]
        return Response(data, media_type="text/plain")


def _decode(body: bytes, request: Request) -> Any:
    content_type = patching.content_type_of(request.headers.get("content-type"))
    if not body:
        raise errors.bad_request("the request body is empty")
    return patching.parse_body(body, content_type if content_type.endswith("yaml") else "application/json")
