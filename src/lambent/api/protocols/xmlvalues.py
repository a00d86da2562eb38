"""Typed values to and from XML documents by shape, as the rest-xml protocol lays them out.

Element names come from each member's `locationName` (else the member name); lists are
wrapped (`<Buckets><Bucket>..`) unless `flattened` (`<Contents>..</Contents><Contents>..`);
maps are `<entry><key/><value/></entry>`; timestamps are ISO 8601 with milliseconds, as S3
writes them. Namespaces on the way in are ignored: S3 clients do not agree on sending them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from botocore.model import ListShape, MapShape, Shape, StructureShape

from lambent.api.protocols.values import parse_timestamp
from lambent.errors import ClientError

XmlError = Callable[[], ClientError]


def element_name(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("name", default))


def iso8601_ms(value: dt.datetime | float) -> str:
    stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromtimestamp(value, dt.UTC)
    stamp = stamp.astimezone(dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{stamp.microsecond // 1000:03d}Z"


# -- reading -------------------------------------------------------------------------------


def parse_document(data: bytes, error: XmlError) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise error() from exc


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def from_xml(shape: Shape, elem: ET.Element, error: XmlError) -> Any:
    if isinstance(shape, StructureShape):
        return _structure_from_xml(shape, elem, error)
    if isinstance(shape, ListShape):
        name = element_name(shape.member, "member")
        return [from_xml(shape.member, child, error) for child in elem if local(child.tag) == name]
    if isinstance(shape, MapShape):
        return _map_from_xml(shape, list(elem), error)
    return scalar_from_xml(shape, elem.text or "", error)


def _structure_from_xml(shape: StructureShape, elem: ET.Element, error: XmlError) -> Any:
    out: dict[str, Any] = {}
    children: dict[str, list[ET.Element]] = {}
    for child in elem:
        children.setdefault(local(child.tag), []).append(child)
    attributes = {local(k): v for k, v in elem.attrib.items()}
    for name, member in shape.members.items():
        if member.serialization.get("location"):
            continue
        wire = element_name(member, name)
        if member.serialization.get("xmlAttribute"):
            text = attributes.get(wire.rpartition(":")[2])
            if text is not None:
                out[name] = scalar_from_xml(member, text, error)
            continue
        found = children.get(wire)
        if not found:
            continue
        if isinstance(member, ListShape) and member.serialization.get("flattened"):
            out[name] = [from_xml(member.member, item, error) for item in found]
        elif isinstance(member, MapShape) and member.serialization.get("flattened"):
            out[name] = _map_from_xml(member, found, error, flattened=True)
        else:
            out[name] = from_xml(member, found[0], error)
    return out


def _map_from_xml(
    shape: MapShape, entries: list[ET.Element], error: XmlError, *, flattened: bool = False
) -> dict[str, Any]:
    kname = element_name(shape.key, "key")
    vname = element_name(shape.value, "value")
    out: dict[str, Any] = {}
    for entry in entries:
        if not flattened and local(entry.tag) != "entry":
            continue
        parts = {local(c.tag): c for c in entry}
        if kname in parts and vname in parts:
            out[parts[kname].text or ""] = from_xml(shape.value, parts[vname], error)
    return out


def scalar_from_xml(shape: Shape, text: str, error: XmlError) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text.strip())
        if kind in ("float", "double"):
            return float(text.strip())
        if kind == "boolean":
            low = text.strip().lower()
            if low not in ("true", "false"):
                raise ValueError(text)
            return low == "true"
        if kind == "timestamp":
            return parse_timestamp(text.strip())
        if kind == "blob":
            return base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise error() from exc
    return text


# -- writing -------------------------------------------------------------------------------


def document(shape: Shape, root: str, value: Any, namespace: str | None) -> bytes:
    """A whole XML document whose root element is `root` (the value's own element)."""
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    body = to_xml(shape, root, value, xmlns)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body.encode()


def to_xml(shape: Shape, tag: str, value: Any, extra_attrs: str = "") -> str:
    if isinstance(shape, StructureShape):
        attrs, inner = _structure_parts(shape, value)
        return f"<{tag}{extra_attrs}{attrs}>{inner}</{tag}>"
    if isinstance(shape, ListShape):
        if shape.serialization.get("flattened"):
            return "".join(to_xml(shape.member, tag, item) for item in value)
        name = element_name(shape.member, "member")
        inner = "".join(to_xml(shape.member, name, item) for item in value)
        return f"<{tag}{extra_attrs}>{inner}</{tag}>"
    if isinstance(shape, MapShape):
        kname = element_name(shape.key, "key")
        vname = element_name(shape.value, "value")
        entries = "".join(
            f"<entry><{kname}>{escape(str(k))}</{kname}>{to_xml(shape.value, vname, v)}</entry>"
            for k, v in value.items()
        )
        if shape.serialization.get("flattened"):
            return entries
        return f"<{tag}{extra_attrs}>{entries}</{tag}>"
    return f"<{tag}{extra_attrs}>{escape(scalar_text(shape, value))}</{tag}>"


def _structure_parts(shape: StructureShape, value: dict[str, Any]) -> tuple[str, str]:
    attrs: list[str] = []
    inner: list[str] = []
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None or member.serialization.get("location"):
            continue
        wire = element_name(member, name)
        if member.serialization.get("xmlAttribute"):
            attrs.append(f" {wire}={quoteattr(scalar_text(member, item))}")
            ns = member.serialization.get("xmlNamespace")
            if isinstance(ns, dict) and ns.get("prefix"):
                attrs.insert(0, f" xmlns:{ns['prefix']}={quoteattr(str(ns.get('uri', '')))}")
            continue
        inner.append(to_xml(member, wire, item))
    return "".join(attrs), "".join(inner)


def scalar_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        stamp = value if isinstance(value, dt.datetime | int | float) else parse_timestamp(value)
        return iso8601_ms(stamp)
    if kind == "blob":
        raw = value if isinstance(value, bytes) else str(value).encode()
        return base64.b64encode(raw).decode()
    return str(value)
