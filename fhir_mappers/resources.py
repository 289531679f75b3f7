"""Resources out of prefetch values, and references resolved among them.

A prefetch value may be a single resource, a Bundle (searchset or collection, with or
without ``type``), ``None`` ("no data"), or an OperationOutcome (the client could not read
it: unavailable). References may be contained (``#id``), relative (``Type/id``, possibly
with ``/_history/n``) or absolute (``https://server/fhir/Type/id``, or a Bundle ``fullUrl``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from .datatypes import dicts, resource_ref, text

_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]*)?$")


def is_operation_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def iter_resources(value: Any) -> Iterator[dict[str, Any]]:
    """The resources a prefetch value holds: the entries of a Bundle, or the resource
    itself. OperationOutcomes (a failed read, or a search's warnings) are not resources of
    the record and are skipped; so is anything that is not an object with a type."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item.get("resourceType") != "Bundle":
                yield from iter_resources(item)
        return
    if not isinstance(value, dict):
        return
    kind = value.get("resourceType")
    if kind == "Bundle":
        for entry in dicts(value.get("entry")):
            resource = entry.get("resource")
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            if isinstance(resource, dict) and isinstance(kind, str) and kind not in ("OperationOutcome", "Bundle"):
                yield resource
        return
    if isinstance(kind, str) and kind != "OperationOutcome":
        yield value


def resources_of_type(value: Any, *kinds: str) -> list[dict[str, Any]]:
    return [r for r in iter_resources(value) if r.get("resourceType") in kinds]


def parse_reference(reference: Any) -> str | None:
    """``Type/id`` of a relative or absolute literal reference (``None`` for ``#id``, URNs
    and anything else)."""
    value = text(reference)
    if value is None or len(value) > 2048:
        return None
    match = _REFERENCE.search(value.split("?", 1)[0])
    return f"{match.group(1)}/{match.group(2)}" if match else None


def find_contained(container: Any, reference: Any) -> dict[str, Any] | None:
    """The contained resource that ``#id`` points at."""
    value = text(reference)
    if not isinstance(container, dict) or value is None or not value.startswith("#"):
        return None
    wanted = value[1:]
    for resource in dicts(container.get("contained")):
        if resource.get("id") == wanted:
            return resource
    return None


class ResourceIndex:
    """Resources from draftOrders and prefetch, findable by ``Type/id`` or ``fullUrl``.

    Indexed on demand, one resource type at a time: a lookup of ``Medication/x`` (or of
    ``https://server/fhir/Medication/x``) indexes the Medications only. Most requests name
    their drugs by code and never look a reference up, and indexing every prefetched
    resource (hundreds of Observations) for one Medication was a measurable share of a
    request (docs/performance.md). A reference that names no type (``urn:uuid:...``) is
    looked up among every entry's ``fullUrl``. The first resource seen under a key wins."""

    def __init__(self, values: Iterable[Any] = ()) -> None:
        self._values: list[Any] = list(values)
        self._by_type: dict[str, tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]] = {}
        self._grouped: dict[str, list[tuple[str | None, dict[str, Any], bool]]] | None = None
        self._all_urls: dict[str, dict[str, Any]] | None = None

    def add(self, value: Any) -> None:
        self._values.append(value)
        self._by_type.clear()
        self._grouped = None
        self._all_urls = None

    def _full_urls(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(fullUrl, resource) of every Bundle entry that has both."""
        for value in self._values:
            if isinstance(value, dict) and value.get("resourceType") == "Bundle":
                for entry in dicts(value.get("entry")):
                    resource = entry.get("resource")
                    url = text(entry.get("fullUrl"))
                    if url and isinstance(resource, dict):
                        yield url, resource

    def _groups(self) -> dict[str, list[tuple[str | None, dict[str, Any], bool]]]:
        """Type -> (fullUrl or None, resource, findable by ``Type/id``) of every resource, in
        order, from one pass over the values: the first look-up of a type used to walk every
        value twice, for each type (a heavy record's thousand Observations, for one Medication).
        Findable by ``Type/id`` is what ``iter_resources`` yields; by fullUrl, any entry."""
        if self._grouped is None:
            grouped: dict[str, list[tuple[str | None, dict[str, Any], bool]]] = {}
            for value in self._values:
                if not (isinstance(value, dict) and value.get("resourceType") == "Bundle"):
                    for resource in iter_resources(value):
                        if kind := text(resource.get("resourceType")):
                            grouped.setdefault(kind, []).append((None, resource, True))
                    continue
                for entry in dicts(value.get("entry")):
                    item = entry.get("resource")
                    if not isinstance(item, dict):
                        continue
                    raw = item.get("resourceType")
                    if kind := text(raw):
                        listed = isinstance(raw, str) and raw not in ("OperationOutcome", "Bundle")
                        grouped.setdefault(kind, []).append((text(entry.get("fullUrl")), item, listed))
            self._grouped = grouped
        return self._grouped

    def _urls_and_refs(self, kind: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """(fullUrl -> resource, ``Type/id`` -> resource) for the resources of one type."""
        found = self._by_type.get(kind)
        if found is not None:
            return found
        by_url: dict[str, dict[str, Any]] = {}
        by_ref: dict[str, dict[str, Any]] = {}
        for url, resource, listed in self._groups().get(kind, ()):
            if url:
                by_url.setdefault(url, resource)
            if listed and (ref := resource_ref(resource)):
                by_ref.setdefault(ref, resource)
        self._by_type[kind] = (by_url, by_ref)
        return by_url, by_ref

    def _every_url(self) -> dict[str, dict[str, Any]]:
        if self._all_urls is None:
            self._all_urls = {}
            for url, resource in self._full_urls():
                self._all_urls.setdefault(url, resource)
        return self._all_urls

    def get(self, reference: Any) -> dict[str, Any] | None:
        value = text(reference)
        if value is None:
            return None
        ref = parse_reference(value)
        if ref is None:
            return self._every_url().get(value)
        by_url, by_ref = self._urls_and_refs(ref.split("/", 1)[0])
        found = by_url.get(value)
        return found if found is not None else by_ref.get(ref)

    def resolve(self, reference: Any, container: Any = None) -> dict[str, Any] | None:
        """A contained resource of ``container`` for ``#id``, else an indexed one."""
        contained = find_contained(container, reference)
        return contained if contained is not None else self.get(reference)
