"""Map layers as compact GeoJSON whose data is text, never markup; HTML legends.

Data is text
------------
folium's tooltips and popups (``GeoJsonTooltip``, ``GeoJsonPopup``), Leaflet's layer control and
attribution put their strings into ``innerHTML``; folium also compiles every rendered script as a
Jinja template on the server, so ``{{ … }}`` in the data would be evaluated there. Every data value
that reaches a tooltip, popup, layer name, legend or attribution therefore goes through
:func:`html_text`, the one helper: ``&``, ``<``, ``>``, ``"``, ``'``, ``{`` and ``}`` become
character references, so markup and template syntax show as typed and run nowhere.
:func:`add_geojson` applies it to every property, label and layer name it writes.

Compact layers
--------------
The map HTML is what every change of the planning map sends to the browser, so
:func:`add_geojson` writes a layer compactly: each property is an index into a per-layer table of
its distinct (escaped) texts, and a text made of parts (an explanation: :class:`Parts`) is a list of
part indices; keys are one letter, with the labels in the tooltip and popup; coordinates are rounded
(5 decimals ≈ 1 m) and features carry no bounding box. A small script placed before the layer
(:class:`StringTables`) decodes each feature's properties when Leaflet adds it, before folium's
tooltip or popup reads them; :func:`decoded_properties` does the same in Python (tests, debugging).
Thousands of points styled by a class (hamlets by flag) are written as one layer per style
(:func:`add_geojson_by_style`) rather than with a per-feature style switch.

All geometries are EPSG:4326 (lon/lat degrees).
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import branca
import folium
import folium.plugins
import numpy as np
import shapely
from folium.template import Template
from folium.utilities import JsCode

__all__ = [
    "CompactGeoJson",
    "LegendEntry",
    "Parts",
    "StringTables",
    "add_geojson",
    "add_geojson_by_style",
    "add_legend",
    "decoded_properties",
    "html_text",
    "map_figure",
]

#: character -> its HTML character reference (markup, attribute quotes and template braces).
_HTML_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "{": "&#123;", "}": "&#125;"}
)
#: property keys of a compact layer, in field order (a layer has at most this many fields).
_KEYS = string.ascii_lowercase


def html_text(value: object) -> str:
    """``value`` as HTML text: markup and template syntax shown as typed, never interpreted.

    ``None`` and NaN are the empty string; anything else is ``str(value)`` with ``&``, ``<``, ``>``,
    ``"``, ``'``, ``{`` and ``}`` replaced by character references. The result is safe in element
    content and quoted attributes, and contains no ``{{``/``{%``/``{#`` for folium's server-side
    Jinja pass. Apply it once, to plain text (it escapes ``&`` of an existing reference again).
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).translate(_HTML_ESCAPES)


def map_figure(m: folium.Map) -> branca.element.Figure:
    """The branca Figure holding ``m`` (its HTML head, body and script)."""
    root = m.get_root()
    if not isinstance(root, branca.element.Figure):  # folium always puts a map in a Figure
        raise TypeError(f"map root is {type(root).__name__}, expected a branca Figure")
    return root


# --------------------------------------------------------------------------- legends


@dataclass(frozen=True)
class LegendEntry:
    """One swatch of an HTML legend (``colour``: a CSS colour of the code, ``label``: plain text)."""

    colour: str
    label: str


def add_legend(
    m: folium.Map, title: str, entries: Sequence[LegendEntry], *, position: str = "bottomleft"
) -> None:
    """Add a plain-HTML legend (no branca colour map, no CDN) to ``m``; title and labels are escaped."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;margin-right:6px;'
        f'background:{html_text(e.colour)};border:1px solid #555"></span>{html_text(e.label)}</div>'
        for e in entries
    )
    vertical = {"bottomleft": "bottom:60px", "bottomright": "bottom:24px", "topleft": "top:80px"}.get(
        position, "top:10px"
    )
    horizontal = "left:10px" if position.endswith("left") else "right:10px"
    html = (
        f'<div class="phusong-legend" style="position:absolute;{vertical};{horizontal};z-index:800;'
        "background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;font:12px sans-serif;"
        f'box-shadow:0 1px 4px rgba(0,0,0,.3)"><b>{html_text(title)}</b>{rows}</div>'
    )
    map_figure(m).html.add_child(branca.element.Element(html))


# --------------------------------------------------------------------------- compact layers


@dataclass(frozen=True)
class Parts:
    """A text field made of parts joined by ``sep`` (each distinct part is sent once).

    Parameters
    ----------
    values : sequence of sequence
        The parts of each feature's text, in order (e.g. the reasons of an explanation).
    sep : str, default "; "
        Joins the parts in the browser.
    """

    values: Sequence[Sequence[object]]
    sep: str = "; "


FieldValues = Sequence[object] | Parts
"""One field of a layer: a value per feature (shown as text), or :class:`Parts`."""


class StringTables(folium.MacroElement):
    """The distinct texts of a compact layer and the script that decodes its features.

    Rendered as ``var <name> = {texts: {key: [text, …]}, sep: {key: sep}}`` with
    ``<name>.decode(feature)``, which replaces each property (an index, or a list of indices) by its
    text. Must be added to the map before its layer, so it is defined when the layer's data is added.

    Parameters
    ----------
    texts : dict of str to list of str
        Property key -> its table of distinct (escaped) texts.
    sep : dict of str to str
        Property key -> separator of a :class:`Parts` field (escaped).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.tables|tojson }};
        {{ this.get_name() }}.decode = function (feature) {
            var texts = {{ this.get_name() }}.texts, sep = {{ this.get_name() }}.sep;
            var p = feature.properties;
            Object.keys(texts).forEach(function (k) {
                var v = p[k], table = texts[k];
                p[k] = Array.isArray(v) ? v.map(function (i) { return table[i]; }).join(sep[k]) : table[v];
            });
        };
        {% endmacro %}
        """
    )

    def __init__(self, texts: dict[str, list[str]], sep: dict[str, str]) -> None:
        super().__init__()
        self._name = "StringTables"
        self.texts = texts
        self.sep = sep
        self.tables = {"texts": texts, "sep": sep}


class CompactGeoJson(folium.GeoJson):
    """A :class:`folium.GeoJson` written by :func:`add_geojson`: properties are string-table indices.

    Attributes
    ----------
    tables : StringTables
        The layer's texts (added to the map just before the layer).
    labels : dict of str to str
        Property key -> field label (escaped), as shown in the tooltip and popup.
    """

    tables: StringTables
    labels: dict[str, str]


class _DetailsOnFeatures(folium.MacroElement):
    """Moves its layer's tooltip and popup onto each feature (for layers in a marker cluster).

    A marker cluster adds a layer's markers, not the layer, to the map, and Leaflet opens a tooltip
    or popup bound to a layer only while that layer is on the map: bound to each marker instead,
    they open. Add after the tooltip and popup.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (group) {
            [[group.getTooltip(), "Tooltip"], [group.getPopup(), "Popup"]].forEach(function (found) {
                var detail = found[0], kind = found[1];
                if (!detail) return;
                var content = detail.getContent(), options = detail.options;
                group["unbind" + kind]();
                group.eachLayer(function (layer) { layer["bind" + kind](content, options); });
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "DetailsOnFeatures"


class _Interner:
    """Distinct texts of one property, in order of first use."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self._seen: dict[tuple[type, object], int] = {}  # a repeated value is escaped once

    def __call__(self, value: object) -> int:
        key = (type(value), value)  # 1, 1.0 and True are equal keys but different texts
        try:
            return self._seen[key]
        except KeyError:
            pass
        except TypeError:  # unhashable: escaped every time
            return self._intern(value)
        found = self._seen[key] = self._intern(value)
        return found

    def _intern(self, value: object) -> int:
        text = html_text(value)
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    @property
    def texts(self) -> list[str]:
        return list(self.index)


def _encode(
    fields: Mapping[str, FieldValues], n: int
) -> tuple[list[str], list[list[int] | list[list[int]]], StringTables]:
    """Keys, per-key encoded columns and the string tables of ``fields`` (label -> values)."""
    if len(fields) > len(_KEYS):
        raise ValueError(f"a compact layer has at most {len(_KEYS)} fields, got {len(fields)}")
    keys = list(_KEYS[: len(fields)])
    columns: list[list[int] | list[list[int]]] = []
    texts: dict[str, list[str]] = {}
    seps: dict[str, str] = {}
    for key, (label, values) in zip(keys, fields.items(), strict=True):
        intern = _Interner()
        column: list[int] | list[list[int]]
        if isinstance(values, Parts):
            column = [[intern(part) for part in parts] for parts in values.values]
            seps[key] = html_text(values.sep)
        else:
            column = [intern(v) for v in values]
        if len(column) != n:
            raise ValueError(f"field {label!r} has {len(column)} values for {n} geometries")
        columns.append(column)
        texts[key] = intern.texts
    return keys, columns, StringTables(texts, seps)


def _geometries(geometry: Iterable[Any], decimals: int) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects with coordinates rounded to ``decimals``; None for missing/empty."""
    geoms = np.asarray(list(geometry), dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    rounded = np.full(len(geoms), None, dtype=object)
    if present.any():
        rounded[present] = shapely.transform(geoms[present], lambda xy: np.round(xy, decimals))
    if present.all() and bool((shapely.get_type_id(rounded) == 0).all()):  # points: the fast path
        xy = shapely.get_coordinates(rounded).tolist()
        return [{"type": "Point", "coordinates": c} for c in xy]
    return [shapely.geometry.mapping(g) if ok else None for g, ok in zip(rounded, present, strict=True)]


def _prepare(
    geometry: Iterable[Any], fields: Mapping[str, FieldValues], decimals: int
) -> tuple[list[dict[str, Any] | None], StringTables, dict[str, str], dict[str, str]]:
    """Features (None where the geometry is missing), string tables, key -> label, label -> key."""
    geoms = _geometries(geometry, decimals)
    keys, columns, tables = _encode(fields, len(geoms))
    labels = dict(zip(keys, (html_text(label) for label in fields), strict=True))
    key_of = {label: key for key, label in zip(keys, fields, strict=True)}
    features: list[dict[str, Any] | None] = [
        None
        if geom is None
        else {
            "type": "Feature",
            "id": i,
            "properties": {key: column[i] for key, column in zip(keys, columns, strict=True)},
            "geometry": geom,
        }
        for i, geom in enumerate(geoms)
    ]
    return features, tables, labels, key_of


def _layer(
    parent: branca.element.Element,
    features: list[dict[str, Any]],
    tables: StringTables,
    labels: dict[str, str],
    key_of: Mapping[str, str],
    *,
    tooltip: Sequence[str],
    popup: Sequence[str],
    style_function: Callable[[dict[str, Any]], dict[str, Any]] | None,
    highlight: Mapping[str, Any] | None,
    name: str | None,
    marker: folium.CircleMarker | None,
    popup_max_width: int,
    **layer_options: Any,
) -> CompactGeoJson:
    """One CompactGeoJson of ``features`` decoded by ``tables`` (already added before it)."""
    lit = dict(highlight) if highlight is not None else None
    layer = CompactGeoJson(
        {"type": "FeatureCollection", "features": features},
        name=html_text(name) if name is not None else None,
        style_function=style_function,
        highlight_function=(lambda _f: lit) if lit is not None else None,
        marker=marker,
        on_each_feature=JsCode(f"{tables.get_name()}.decode"),
        tooltip=_detail(folium.GeoJsonTooltip, tooltip, key_of, labels) if tooltip and features else None,
        popup=(
            _detail(folium.GeoJsonPopup, popup, key_of, labels, max_width=popup_max_width)
            if popup and features
            else None
        ),
        **layer_options,
    )
    layer.tables = tables
    layer.labels = labels
    if isinstance(parent, folium.plugins.MarkerCluster) and (tooltip or popup) and features:
        layer.add_child(_DetailsOnFeatures())
    parent.add_child(layer)
    return layer


def add_geojson(
    parent: branca.element.Element,
    geometry: Iterable[Any],
    fields: Mapping[str, FieldValues],
    *,
    tooltip: Sequence[str] = (),
    popup: Sequence[str] = (),
    style: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    highlight: Mapping[str, Any] | None = None,
    name: str | None = None,
    marker: folium.CircleMarker | None = None,
    decimals: int = 5,
    popup_max_width: int = 360,
    **layer_options: Any,
) -> CompactGeoJson:
    """Add a compact GeoJSON layer whose fields are shown, escaped, in its tooltip and popup.

    Parameters
    ----------
    parent : folium element
        Map, feature group or marker cluster the layer (and its string tables) are added to (in a
        marker cluster, the tooltip and popup are bound to each feature, so that they open).
    geometry : iterable of shapely geometries
        One per feature, EPSG:4326; missing or empty ones are left out (with their values).
    fields : mapping of str to values or Parts
        Field label (plain text, shown in the tooltip/popup) -> one value per geometry. Values are
        shown as text (:func:`html_text`): format numbers before passing them.
    tooltip, popup : sequence of str
        Labels of the fields shown on hover / on click (none, or no feature: no tooltip / popup).
    style : mapping or sequence of mappings, optional
        Leaflet path style of every feature, or one per geometry (in ``geometry`` order; folium
        writes a switch on the feature id: for many features, see :func:`add_geojson_by_style`).
    highlight : mapping, optional
        Style while the pointer is over a feature.
    name : str, optional
        Layer name in the layer control (plain text; escaped here).
    marker : folium.CircleMarker, optional
        How points are drawn (Leaflet's default marker otherwise).
    decimals : int, default 5
        Decimal places of the coordinates (5 ≈ 1 m).
    popup_max_width : int, default 360
        Popup width limit in pixels.
    **layer_options
        Passed to :class:`folium.GeoJson` (``show``, ``control``, ``interactive`` …).

    Returns
    -------
    CompactGeoJson
    """
    features, tables, labels, key_of = _prepare(geometry, fields, decimals)
    style_function: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    if isinstance(style, Mapping):
        style_function = _constant(dict(style))
    elif style is not None:
        styles = [dict(s) for s in style]
        if len(styles) != len(features):
            raise ValueError(f"{len(styles)} styles for {len(features)} geometries")
        style_function = lambda f: styles[f["id"]]  # noqa: E731
    parent.add_child(tables)
    return _layer(
        parent,
        [f for f in features if f is not None],
        tables,
        labels,
        key_of,
        tooltip=tooltip,
        popup=popup,
        style_function=style_function,
        highlight=highlight,
        name=name,
        marker=marker,
        popup_max_width=popup_max_width,
        **layer_options,
    )


def add_geojson_by_style(
    parent: branca.element.Element,
    geometry: Iterable[Any],
    fields: Mapping[str, FieldValues],
    *,
    style: Sequence[Mapping[str, Any]],
    tooltip: Sequence[str] = (),
    popup: Sequence[str] = (),
    marker: folium.CircleMarker | None = None,
    decimals: int = 5,
    popup_max_width: int = 360,
) -> list[CompactGeoJson]:
    """Like :func:`add_geojson` with a style per feature, as one layer per distinct style.

    The layers share one string table and are drawn in order of each style's first feature (put
    the features to draw on top last). Each layer has a single style, so no per-feature style
    switch is written (for thousands of points, less to send and to render). Add them to a
    feature group to show and hide them together.

    Parameters
    ----------
    style : sequence of mappings
        Leaflet path style of each geometry (in ``geometry`` order).

    Other parameters are those of :func:`add_geojson`.

    Returns
    -------
    list of CompactGeoJson
    """
    features, tables, labels, key_of = _prepare(geometry, fields, decimals)
    if len(style) != len(features):
        raise ValueError(f"{len(style)} styles for {len(features)} geometries")
    groups: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    keys: dict[int, str] = {}  # id of a style mapping -> its key (styles are often shared objects)
    for feature, feature_style in zip(features, style, strict=True):
        if feature is not None:
            key = keys.get(id(feature_style))
            if key is None:
                key = keys[id(feature_style)] = json.dumps(dict(feature_style), sort_keys=True)
            groups.setdefault(key, (dict(feature_style), []))[1].append(feature)
    parent.add_child(tables)
    return [
        _layer(
            parent,
            members,
            tables,
            labels,
            key_of,
            tooltip=tooltip,
            popup=popup,
            style_function=_constant(group_style),
            highlight=None,
            name=None,
            marker=marker,
            popup_max_width=popup_max_width,
        )
        for group_style, members in groups.values()
    ]


def _constant(style: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda _feature: style


def _detail(
    cls: Any, shown: Sequence[str], key_of: Mapping[str, str], labels: Mapping[str, str], **options: Any
) -> Any:
    """A folium tooltip or popup table of the fields labelled ``shown``."""
    unknown = [label for label in shown if label not in key_of]
    if unknown:
        raise ValueError(f"no field labelled {unknown!r}; fields: {list(key_of)}")
    fields = [key_of[label] for label in shown]
    return cls(fields=fields, aliases=[labels[k] for k in fields], localize=False, **options)


def decoded_properties(layer: CompactGeoJson) -> list[dict[str, str]]:
    """Each feature's properties as the browser shows them: escaped label -> escaped text.

    The Python twin of ``StringTables.decode`` (tests, debugging).
    """
    texts, seps = layer.tables.texts, layer.tables.sep
    out = []
    for feature in layer.data["features"]:
        row = {}
        for key, value in feature["properties"].items():
            table = texts[key]
            text = seps[key].join(table[i] for i in value) if isinstance(value, list) else table[value]
            row[layer.labels[key]] = text
        out.append(row)
    return out
