// The national map of the dashboard: MapLibre GL over the service's own vector tiles (no base map, no request
// to any other host). Exposes window.giMap and sets window.giMapReady once the first view is drawn.
(function () {
  "use strict";
  performance.mark("gi-map-script");  // MapLibre parsed and run: the map is created from here
  const el = document.getElementById("map");
  const origin = window.location.origin;
  const query = new URLSearchParams();
  query.set("year", el.dataset.year);
  // The data version of the page: tiles under it are kept by the browser until the data changes.
  if (el.dataset.version) query.set("v", el.dataset.version);
  JSON.parse(el.dataset.products || "[]").forEach((p) => query.append("product", p));
  const tiles = (layer) => [`${origin}/dashboard/tiles/${layer}/{z}/{x}/{y}.mvt?${query}`];
  const pointZoom = Number(el.dataset.pointZoom);
  const RED = "#c62828", ORANGE = "#ef6c00", GREEN = "#2e7d32";
  const kind = (k) => ["==", ["get", "kind"], k];
  const outline = { source: "reference", "source-layer": "reference" };

  const map = new maplibregl.Map({
    container: "map",
    style: {
      version: 8,
      sources: {
        // The national outlines as tiles cut from a generalization per zoom (a few kB each for the national
        // view, nothing to parse and index up front); overzoomed beyond the finest one.
        reference: { type: "vector", tiles: [`${origin}/dashboard/tiles/reference/{z}/{x}/{y}.mvt`], minzoom: 0,
                     maxzoom: Number(el.dataset.referenceZoom) },
        areas: { type: "vector", tiles: tiles("areas"), minzoom: 0, maxzoom: 14 },
        producers: { type: "vector", tiles: tiles("producers"), minzoom: Number(el.dataset.producerZoom), maxzoom: 14 },
        samples: { type: "vector", tiles: tiles("samples"), minzoom: 0, maxzoom: 16 },
      },
      layers: [
        // (fills without their antialiased outline pass: the border and area lines below draw the edges)
        { id: "sea", type: "background", paint: { "background-color": "#dce8f2" } },
        { id: "land", type: "fill", ...outline, filter: kind("country"), paint: { "fill-color": "#f8f6f0", "fill-antialias": false } },
        { id: "provinces", type: "line", ...outline, filter: kind("province"),
          paint: { "line-color": "#bdb6a8", "line-width": 0.7 } },
        { id: "border", type: "line", ...outline, filter: kind("country"),
          paint: { "line-color": "#857d6e", "line-width": 1.1 } },
        { id: "maritime", type: "line", ...outline, filter: kind("maritime"),
          paint: { "line-color": "#857d6e", "line-width": 1.2, "line-dasharray": [3, 2] } },
        { id: "areas-fill", type: "fill", source: "areas", "source-layer": "areas",
          paint: { "fill-color": "#43a047", "fill-opacity": 0.22, "fill-antialias": false } },
        { id: "areas-line", type: "line", source: "areas", "source-layer": "areas",
          paint: { "line-color": "#1b5e20", "line-width": 1 } },
        { id: "producers", type: "circle", source: "producers", "source-layer": "producers",
          paint: { "circle-radius": 4, "circle-color": "#6d4c41", "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
        { id: "clusters", type: "circle", source: "samples", "source-layer": "samples",
          filter: ["==", ["get", "cluster"], true],
          paint: {
            "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "n"]], 1, 5, 10, 12, 100, 26, 1000, 42],
            "circle-color": ["case", [">", ["get", "bad"], 0], RED, [">", ["get", "doubt"], 0], ORANGE, GREEN],
            "circle-opacity": 0.72, "circle-stroke-color": "#fff", "circle-stroke-width": 1,
          } },
        { id: "samples", type: "circle", source: "samples", "source-layer": "samples",
          filter: ["==", ["get", "cluster"], false],
          paint: {
            "circle-radius": 6,
            "circle-color": ["match", ["get", "class"], "bad", RED, "doubt", ORANGE, GREEN],
            "circle-stroke-color": "#fff", "circle-stroke-width": 1.5,
          } },
      ],
    },
    // the national view (map_prefetch.js has already asked for its tiles from the same attributes)
    bounds: JSON.parse(el.dataset.bounds),
    fitBoundsOptions: { padding: Number(el.dataset.padding) },
    maxZoom: 18,
    fadeDuration: 0,  // no symbol fades: the first view is final as soon as its tiles are drawn
    validateStyle: false,  // the style above is fixed and drawn by the page tests: no validation on every load
    attributionControl: false,
    dragRotate: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");

  const ORIGIN_ZH = { inside: "在保护范围内", uncertain: "边界存疑", outside: "在保护范围外", unchecked: "未核验" };
  const QUALITY_ZH = { pass: "合格", fail: "不合格", inconclusive: "无法判定", pending: "待检验" };
  const text = (value) => {
    const span = document.createElement("span");
    span.textContent = String(value);
    return span.innerHTML;
  };
  const popup = (lngLat, html) => new maplibregl.Popup({ maxWidth: "320px" }).setLngLat(lngLat).setHTML(html).addTo(map);

  // One popup per click: MapLibre fires a click on every layer under the pointer, so a sample on a producer's
  // site would open two popups, the later covering the sample's link. One handler decides instead, topmost
  // first: the samples there (with the producers at the same spot listed below them), else a cluster, else a
  // producer, else an area.
  const sampleHtml = (f) => {
    // the sample number the record and the PDFs print: local collection date (YYMMDD) and code
    const number = `${String(f.collected).replace(/-/g, "").slice(2)}-${f.code}`;
    return `<b>样品 ${text(number)}</b> · ${text(f.product_name)}<br>采样日期 ${text(f.collected)}<br>` +
      `产地：${text(ORIGIN_ZH[f.origin] || f.origin)}；品质：${text(QUALITY_ZH[f.quality] || f.quality)}<br>` +
      `<a class="record-link" href="/dashboard/samples/${encodeURIComponent(f.id)}">查看检验记录</a>`;
  };
  const producerHtml = (f) =>
    `<b>${text(f.name)}</b><br>${text(f.product_name)}<br>统一社会信用代码 ${text(f.credit_code)}`;
  const layersAt = (point, layers) => map.queryRenderedFeatures(point, { layers });
  const unique = (features) => {
    const seen = new Set();
    return features.filter((f) => {
      const key = f.properties.id;
      if (seen.has(key)) return false;  // a point drawn in two tiles' buffers is one sample
      seen.add(key);
      return true;
    });
  };
  map.on("click", (e) => {
    const samples = unique(layersAt(e.point, ["samples"]));
    const producers = unique(layersAt(e.point, ["producers"]));
    if (samples.length) {
      const parts = samples.slice(0, 5).map((f) => sampleHtml(f.properties));
      if (samples.length > 5) parts.push(`另有 ${samples.length - 5} 个样品，请放大查看`);
      if (producers.length) {
        parts.push(`<small>此处的生产经营主体：</small><br>` +
          producers.slice(0, 3).map((f) => producerHtml(f.properties)).join("<br>"));
      }
      popup(e.lngLat, parts.join('<hr class="popup-rule">'));
      return;
    }
    const clusters = layersAt(e.point, ["clusters"]);
    if (clusters.length) {
      const f = clusters[0].properties;
      popup(e.lngLat, `<b>${text(f.n)}</b> 个样品<br>不符合 ${text(f.bad)}，存疑 ${text(f.doubt)}<br><small>放大查看</small>`);
      map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, pointZoom) });
      return;
    }
    if (producers.length) {
      popup(e.lngLat, producers.slice(0, 3).map((f) => producerHtml(f.properties)).join('<hr class="popup-rule">'));
      return;
    }
    const areas = layersAt(e.point, ["areas-fill"]);
    if (areas.length) {
      const f = areas[0].properties;
      popup(e.lngLat, `<b>${text(f.name)}</b> 保护范围<br>第 ${text(f.version)} 版，${Number(f.area_km2).toFixed(1)} 平方千米`);
    }
  });
  for (const layer of ["clusters", "samples", "producers", "areas-fill"]) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }

  window.giMap = map;
  window.giMapState = () => {
    const count = (layers) => map.queryRenderedFeatures({ layers }).length;
    const clusters = map.queryRenderedFeatures({ layers: ["clusters"] });
    return {
      zoom: map.getZoom(),
      clusters: clusters.length,
      clusteredSamples: clusters.reduce((sum, f) => sum + Number(f.properties.n), 0),
      samples: count(["samples"]),
      areas: count(["areas-fill"]),
      producers: count(["producers"]),
      provinces: count(["provinces"]),
      maritime: count(["maritime"]),
    };
  };
  // Marks for the benchmark's timeline (style loaded, first view drawn).
  map.once("load", () => {
    performance.mark("gi-map-load");
    map.once("idle", () => { performance.mark("gi-map-ready"); window.giMapReady = true; });
  });
})();
