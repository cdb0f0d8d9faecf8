// The national map's first tiles, asked for while MapLibre (1 MB) is still downloading, compiling and starting its
// worker: this script runs as soon as the #map element is parsed, computes the tiles of the initial view exactly as
// MapLibre will (fitBounds of data-bounds, 512 px tiles, the covering zoom is the view's zoom rounded down) and
// fetches them. Tile addresses carry the page's data version and are cacheable, so when MapLibre's worker asks for
// the same URLs a moment later the browser answers from its HTTP cache (or joins the request still in flight)
// instead of starting the round trips then. national_map.js reads the same data attributes.
(function () {
  "use strict";
  const el = document.getElementById("map");
  if (!el || !window.fetch) return;
  const width = el.clientWidth, height = el.clientHeight;
  if (!width || !height) return;
  const [[west, south], [east, north]] = JSON.parse(el.dataset.bounds);
  const padding = Number(el.dataset.padding);
  const TILE = 512;  // MapLibre's vector tile size: the world is 512 px wide at zoom 0
  const mx = (lon) => (lon + 180) / 360;
  const my = (lat) => (1 - Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)) / Math.PI) / 2;
  const x0 = mx(west), x1 = mx(east), y0 = my(north), y1 = my(south);
  const scale = Math.min((width - 2 * padding) / ((x1 - x0) * TILE), (height - 2 * padding) / ((y1 - y0) * TILE));
  const zoom = Math.log2(scale);
  const tz = Math.max(0, Math.floor(zoom));
  const world = TILE * Math.pow(2, zoom);  // px of the world at the view's zoom
  const tileSide = world / Math.pow(2, tz);
  const cx = ((x0 + x1) / 2) * world, cy = ((y0 + y1) / 2) * world;
  const n = Math.pow(2, tz);
  const clamp = (v) => Math.min(n - 1, Math.max(0, v));
  const xa = clamp(Math.floor((cx - width / 2) / tileSide)), xb = clamp(Math.floor((cx + width / 2) / tileSide));
  const ya = clamp(Math.floor((cy - height / 2) / tileSide)), yb = clamp(Math.floor((cy + height / 2) / tileSide));

  const query = new URLSearchParams();
  query.set("year", el.dataset.year);
  if (el.dataset.version) query.set("v", el.dataset.version);
  JSON.parse(el.dataset.products || "[]").forEach((p) => query.append("product", p));
  const origin = window.location.origin;
  const layers = [["reference", ""], ["areas", `?${query}`], ["samples", `?${query}`]];
  if (tz >= Number(el.dataset.producerZoom)) layers.push(["producers", `?${query}`]);
  const urls = [];
  for (const [layer, search] of layers) {
    for (let x = xa; x <= xb; x++) {
      for (let y = ya; y <= yb; y++) urls.push(`${origin}/dashboard/tiles/${layer}/${tz}/${x}/${y}.mvt${search}`);
    }
  }
  // Read to the end so the responses are stored whole; a failure here only means MapLibre fetches the tile itself.
  window.giMapPrefetch = urls;
  urls.forEach((url) => fetch(url, { credentials: "same-origin" }).then((r) => r.arrayBuffer()).catch(() => {}));
})();
