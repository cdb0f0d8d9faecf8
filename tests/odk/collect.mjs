// ODK's own form engine (@getodk/xforms-engine, the engine of ODK Web Forms) acting as ODK Collect does against
// the service: formList, form and manifest with its media files, fill the form, prepare the submission payload
// (split by the size the server accepts, as Collect splits large uploads), then one POST per chunk.
//
// Usage: node collect.mjs < job.json > result.json
// job: { server, username, password, formId, maxSize, steps: [{ref, value} | {ref, file: {path, name, type}}
//        | {ref, addRepeat: n}] }
// The engine runs under Node with jsdom: `document`, `DOMParser` and `Node` come from a JSDOM window and
// `__dirname` is set before the engine is imported (dynamically: a static import fails).
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const { window } = new JSDOM('');
globalThis.document = window.document;
globalThis.DOMParser = window.DOMParser;
globalThis.Node = window.Node;
globalThis.__dirname = process.cwd();
const { createInstance } = await import('@getodk/xforms-engine');

const job = JSON.parse(readFileSync(0, 'utf8'));
const log = [];
let credentials = null; // sent pre-emptively once a server has asked for them, as Collect does

const request = async (url, init = {}) => {
  const headers = new Headers(init.headers ?? {});
  headers.set('X-OpenRosa-Version', '1.0');
  headers.set('User-Agent', 'org.odk.collect.android/v2025.2.0 gi-engine-test');
  if (credentials) headers.set('Authorization', credentials);
  let response = await fetch(url, { ...init, headers });
  const challenge = response.headers.get('www-authenticate') ?? '';
  if (response.status === 401 && !credentials && /^basic/i.test(challenge)) {
    credentials = 'Basic ' + Buffer.from(`${job.username}:${job.password}`).toString('base64');
    headers.set('Authorization', credentials);
    log.push({ method: init.method ?? 'GET', url: String(url), status: 401, challenge });
    response = await fetch(url, { ...init, headers });
  }
  log.push({ method: init.method ?? 'GET', url: String(url), status: response.status });
  return response;
};

const text = async (response, what) => {
  const body = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status}: ${body}`);
  return body;
};

const xmlDoc = (body) => new window.DOMParser().parseFromString(body, 'text/xml');
const tagText = (el, name) => el.getElementsByTagName(name)[0]?.textContent?.trim() ?? null;

// 1. The form list: the form's download URL and manifest URL.
const formList = xmlDoc(await text(await request(`${job.server}/formList`), 'formList'));
const entry = [...formList.getElementsByTagName('xform')].find((x) => tagText(x, 'formID') === job.formId);
if (!entry) throw new Error(`formList has no ${job.formId}`);
const formXml = await text(await request(tagText(entry, 'downloadUrl')), 'form');
// 2. The manifest and its media files (downloaded before filling, as Collect does for offline use).
const media = {};
const manifestUrl = tagText(entry, 'manifestUrl');
if (manifestUrl) {
  const manifest = xmlDoc(await text(await request(manifestUrl), 'manifest'));
  for (const file of manifest.getElementsByTagName('mediaFile')) {
    const name = tagText(file, 'filename');
    media[name] = await text(await request(tagText(file, 'downloadUrl')), name);
  }
}

// 3. Fill the form with the engine.
const created = await createInstance(formXml, {
  form: {
    fetchFormAttachment: async (url) => {
      const name = decodeURIComponent(String(url).split('/').pop());
      if (!(name in media)) return new Response('', { status: 404 });
      return new Response(media[name], { status: 200, headers: { 'Content-Type': 'text/csv' } });
    },
  },
});
const root = created.root;
const find = (ref) => {
  const stack = [root];
  while (stack.length) {
    const node = stack.pop();
    if (node.currentState.reference === ref) return node;
    stack.push(...(node.currentState.children ?? []));
  }
  throw new Error(`no node ${ref}`);
};
const readBack = (node) => {
  // The value as the submission serializes it (geopoint "lat lon alt accuracy", file name, ...).
  if (typeof node.currentState.instanceValue === 'string') return node.currentState.instanceValue;
  const value = node.currentState.value;
  if (value instanceof File) return value.name;
  if (Array.isArray(value)) return value.join(' ');
  return value == null ? null : String(value);
};
const values = {};
for (const step of job.steps) {
  const node = find(step.ref);
  if (step.addRepeat) node.addInstances(undefined, step.addRepeat);
  else if (step.file) {
    const bytes = readFileSync(step.file.path);
    node.setValue(new File([bytes], step.file.name, { type: step.file.type }));
  } else if (node.nodeType === 'select') node.selectValue(step.value);
  else node.setValue(step.value);
  if (!step.addRepeat) values[step.ref] = readBack(node); // the engine drops invalid values silently
}
for (const ref of job.readBack ?? []) values[ref] = readBack(find(ref));

// 4. HEAD /submission tells how large one POST may be; the payload is chunked by that size (or the job's
// smaller maxSize, to make a small test upload span several POSTs), as Collect splits large uploads.
const head = await request(`${job.server}/submission`, { method: 'HEAD' });
const accept = Number(head.headers.get('x-openrosa-accept-content-length') ?? 10_000_000);
const maxSize = Math.min(accept, job.maxSize ?? accept);
const payload = await root.prepareInstancePayload({ payloadType: 'chunked', maxSize });
const result = {
  log,
  values,
  media,
  head: {
    status: head.status,
    openRosaVersion: head.headers.get('x-openrosa-version'),
    acceptContentLength: head.headers.get('x-openrosa-accept-content-length'),
  },
  maxSize,
  payloadStatus: payload.status,
  violations: (payload.violations ?? []).map((v) => v.reference ?? v.fileName ?? String(v)),
  instanceXml: await payload.data[0].get('xml_submission_file').text(),
  chunks: [],
};
if (payload.status === 'ready' && head.status === 204) {
  // 5. One POST per chunk, each repeating the same XML (Collect stops at the first failure).
  for (const data of payload.data) {
    const response = await request(`${job.server}/submission`, { method: 'POST', body: data });
    result.chunks.push({
      parts: [...data.keys()],
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: await response.text(),
    });
    if (response.status !== 201) break;
  }
}
process.stdout.write(JSON.stringify(result, null, 1));
