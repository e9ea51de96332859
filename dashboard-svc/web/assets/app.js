// xii dashboard: reads the public API of the server it came from and draws
// what it answers. Every refresh is a set of ordinary fresh requests; the
// page never shows an incomplete answer as if it were complete.
'use strict';

(() => {
  const API = '/api/v1';
  const FILTERS = ['survey', 'provider', 'device', 'location', 'since', 'until'];
  const REFRESH_MS = 5000;
  const PAGE_SIZE = 20;
  const TOP = 8;
  const MINUTE = 60e3, HOUR = 3600e3, DAY = 86400e3;
  const INTERVALS = {'1m': MINUTE, '1h': HOUR, '1d': DAY};
  const COLORS = ['#1f5fa8', '#b3400f', '#2c7a3a', '#7b3fa0', '#8a6d00', '#0f6f78', '#a3245e', '#4d4d4d'];
  const SVGNS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);
  const jaegerURL = (document.querySelector('meta[name="xii-jaeger-url"]').content || '').replace(/\/+$/, '');

  // The API token, when the API asks for one: in this tab's memory only.
  let token = '';
  let tokenPrompt = null; // the pending prompt, shared by every request that met a 401

  let ctrl = null; // the AbortController of the refresh in flight
  let timer = 0;
  let paused = false;
  let cursors = []; // the cursors of the older pages shown; empty: the newest
  let nextCursor = '';
  // The bucket interval each filter's data asked for, remembered for the
  // tab (it is no secret) so that a reload need not learn it again.
  const intervals = {
    get(key) {
      try {
        return JSON.parse(sessionStorage.getItem('xii-intervals') || '{}')[key];
      } catch (e) {
        return undefined;
      }
    },
    set(key, interval) {
      try {
        const all = JSON.parse(sessionStorage.getItem('xii-intervals') || '{}');
        all[key] = interval;
        const keys = Object.keys(all);
        if (keys.length > 50) delete all[keys[0]];
        sessionStorage.setItem('xii-intervals', JSON.stringify(all));
      } catch (e) {
        // storage full or off: learn it again next time
      }
    },
  };
  let refreshes = 0;
  let lastUpdate = null; // when the numbers shown were read

  class APIError extends Error {
    constructor(status, message, traceId) {
      super(message);
      this.status = status;
      this.traceId = traceId;
    }
  }

  // --- the filter and the URL ----------------------------------------------

  function readFilter() {
    const q = new URLSearchParams(location.search);
    const f = {};
    for (const name of FILTERS) {
      const v = (q.get(name) || '').trim();
      if (!v || v.length > 128) continue;
      if ((name === 'since' || name === 'until') && isNaN(Date.parse(v))) continue;
      f[name] = v;
    }
    return f;
  }

  function filterKey(f) {
    return FILTERS.map((n) => f[n] || '').join('\u0000');
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    return s ? '?' + s : '';
  }

  function showFilter(f) {
    const form = $('filters');
    for (const name of FILTERS) {
      const input = form.elements[name];
      const v = f[name] || '';
      input.value = (name === 'since' || name === 'until') && v ? toLocalInput(v) : v;
    }
  }

  function formFilter() {
    const form = $('filters');
    const f = {};
    for (const name of FILTERS) {
      const v = form.elements[name].value.trim();
      if (!v) continue;
      f[name] = (name === 'since' || name === 'until') ? fromLocalInput(v) : v;
    }
    return f;
  }

  // The time inputs are in UTC, as every time on the page.
  function toLocalInput(iso) {
    return new Date(iso).toISOString().slice(0, 19);
  }

  function fromLocalInput(v) {
    return new Date(v + (v.length === 16 ? ':00' : '') + 'Z').toISOString();
  }

  // --- talking to the API --------------------------------------------------

  // send fetches url with the token, if any, in the Authorization header
  // (never in the URL); on 401 it asks for the token and tries again.
  async function send(url, signal) {
    for (;;) {
      const headers = {Accept: 'application/json'};
      if (token) headers.Authorization = 'Bearer ' + token;
      const resp = await fetch(url, {headers, signal, cache: 'no-store', credentials: 'same-origin', redirect: 'error'});
      if (resp.status !== 401) return resp;
      await resp.body?.cancel();
      await askToken(token !== '', signal);
    }
  }

  async function api(path, params, signal) {
    const resp = await send(API + path + query(params), signal);
    const traceId = resp.headers.get('X-Trace-Id') || '';
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      if (e.name === 'AbortError') throw e;
    }
    if (!resp.ok || body === null) {
      throw new APIError(resp.status, (body && body.error) || ('HTTP ' + resp.status), traceId);
    }
    return {path: path + query(params), body, traceId};
  }

  function askToken(wrong, signal) {
    if (!tokenPrompt) {
      tokenPrompt = new Promise((resolve, reject) => {
        const dialog = $('token-dialog');
        const form = $('token-form');
        const input = $('token-input');
        $('token-why').textContent = wrong
          ? 'The API did not accept that token. Enter it again; it is kept in this tab\'s memory only.'
          : 'This dashboard\'s API needs a token. It is kept in this tab\'s memory only.';
        const done = (ok) => {
          form.removeEventListener('submit', onSubmit);
          dialog.removeEventListener('cancel', onCancel);
          tokenPrompt = null;
          if (ok) resolve(); else reject(new APIError(401, 'the API needs a token', ''));
        };
        const onSubmit = (ev) => {
          ev.preventDefault();
          token = input.value.trim();
          input.value = '';
          dialog.close();
          done(token !== '');
        };
        const onCancel = () => {
          paused = true;
          showPaused();
          done(false);
        };
        form.addEventListener('submit', onSubmit);
        dialog.addEventListener('cancel', onCancel);
        dialog.showModal();
        input.focus();
      });
    }
    return new Promise((resolve, reject) => {
      tokenPrompt.then(resolve, reject);
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), {once: true});
    });
  }

  // --- one refresh ---------------------------------------------------------

  // count is the total of f within the last ms before now, the filter's own
  // range respected; 0 without asking when the two do not overlap.
  async function count(f, now, ms, signal) {
    let since = new Date(now - ms);
    if (f.since && new Date(f.since) > since) since = new Date(f.since);
    if (f.until && new Date(f.until) <= since) return null;
    return api('/stats', {...f, since: since.toISOString()}, signal);
  }

  function chooseInterval(f, now, earliest) {
    const from = f.since ? Date.parse(f.since) : earliest;
    if (from === undefined || from === null) return '1h';
    const to = f.until ? Math.min(Date.parse(f.until), now) : now;
    const span = to - from;
    if (span <= 6 * HOUR) return '1m';
    if (span <= 30 * DAY) return '1h';
    return '1d';
  }

  // series asks for the counts per time bucket and provider, in buckets
  // chosen from the range; without since, from the data's own extent,
  // learned from the answer.
  async function series(f, now, signal) {
    const key = filterKey(f);
    let interval = INTERVALS[intervals.get(key)] ? intervals.get(key) : chooseInterval(f, now, undefined);
    for (let i = 0; ; i++) {
      const r = await api('/stats', {...f, group_by: 'time,provider', interval}, signal);
      const times = r.body.groups.map((g) => Date.parse(g.key.time));
      const earliest = times.length ? Math.min(...times) : undefined;
      const better = chooseInterval(f, now, earliest);
      if (better === interval || earliest === undefined || i === 2) {
        intervals.set(key, interval);
        r.interval = interval;
        return r;
      }
      interval = better;
    }
  }

  async function refresh() {
    clearTimeout(timer);
    if (ctrl) return; // never two at once
    const c = new AbortController();
    ctrl = c;
    document.body.dataset.busy = 'true';
    const f = readFilter();
    const now = Date.now();
    const started = performance.now();
    setStatus('Refreshing…');
    try {
      const cursor = cursors.length ? cursors[cursors.length - 1] : '';
      const [total, hour, day, time, devices, locations, latest] = await Promise.all([
        api('/stats', {...f, group_by: 'provider'}, c.signal),
        count(f, now, HOUR, c.signal),
        count(f, now, DAY, c.signal),
        series(f, now, c.signal),
        api('/stats', {...f, group_by: 'device', top: TOP}, c.signal),
        api('/stats', {...f, group_by: 'location', top: TOP}, c.signal),
        api('/responses', {...f, limit: PAGE_SIZE, cursor}, c.signal),
      ]);
      if (c.signal.aborted) return;
      const answers = [total, hour, day, time, devices, locations, latest].filter(Boolean);
      render(f, now, {total, hour, day, time, devices, locations, latest}, answers);
      lastUpdate = new Date(now);
      refreshes++;
      const ms = Math.round(performance.now() - started);
      document.body.dataset.refreshes = String(refreshes);
      if (refreshes === 1) document.body.dataset.firstRenderMs = String(Math.round(performance.now()));
      document.body.dataset.lastRefreshMs = String(ms);
      setStatus('Updated ' + clock(new Date(now)) + ' UTC in ' + ms + ' ms' + (paused ? ' · paused' : ''));
      hideError();
    } catch (e) {
      if (e.name === 'AbortError' || c.signal.aborted) return;
      showError(e);
    } finally {
      if (ctrl === c) {
        ctrl = null;
        document.body.dataset.busy = 'false';
        schedule();
      }
    }
  }

  // A tab nobody looks at does not refresh; it refreshes at once when it
  // is looked at again.
  let missed = false;

  function schedule() {
    clearTimeout(timer);
    if (!paused) timer = setTimeout(tick, REFRESH_MS);
  }

  function tick() {
    if (document.hidden) {
      missed = true;
      return;
    }
    refresh();
  }

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && missed && !paused) {
      missed = false;
      refresh();
    }
  });

  // restart cancels the refresh in flight and starts one for the current
  // filter at once.
  function restart() {
    if (ctrl) {
      ctrl.abort();
      ctrl = null;
      document.body.dataset.aborted = String(Number(document.body.dataset.aborted || 0) + 1);
    }
    refresh();
  }

  // --- drawing -------------------------------------------------------------

  function render(f, now, r, answers) {
    const sync = r.total.body.sync;
    const missing = new Map();
    for (const a of answers) {
      for (const [name, p] of Object.entries(a.body.sync.providers)) {
        if (p.status !== 'ok') missing.set(name, p.status);
      }
    }
    const incomplete = missing.size > 0 || answers.some((a) => !a.body.sync.complete);
    renderBanner(incomplete, missing);
    document.body.dataset.complete = String(!incomplete);

    setNumber('n-total', r.total.body.total, incomplete);
    setNumber('n-hour', r.hour ? r.hour.body.total : 0, incomplete);
    setNumber('n-day', r.day ? r.day.body.total : 0, incomplete);
    const names = Object.keys(sync.providers).sort();
    const ok = names.filter((n) => sync.providers[n].status === 'ok').length;
    $('n-sync').textContent = ok + ' of ' + names.length;
    $('n-sync').dataset.value = String(ok);
    $('n-sync').dataset.of = String(names.length);

    const colors = new Map(names.map((n, i) => [n, COLORS[i % COLORS.length]]));
    for (const g of r.time.body.groups) {
      if (!colors.has(g.key.provider)) colors.set(g.key.provider, COLORS[colors.size % COLORS.length]);
    }
    renderTime(f, now, r.time, colors);
    renderTop('devices-svg', 'device', r.devices.body, 'Top devices');
    renderTop('locations-svg', 'location', r.locations.body, 'Top locations');
    renderSync(sync);
    renderLatest(r.latest.body);
    fillList('l-provider', names);
    fillList('l-survey', r.latest.body.data.map((x) => x.survey));
    fillList('l-device', r.devices.body.groups.map((g) => g.key.device));
    fillList('l-location', r.locations.body.groups.map((g) => g.key.location));
    renderTraces(r.total.traceId, answers);
  }

  function renderBanner(incomplete, missing) {
    const banner = $('banner');
    if (!incomplete) {
      banner.hidden = true;
      banner.textContent = '';
      return;
    }
    const list = [...missing.entries()].sort().map(([n, s]) => n + ' (' + s.replace('_', ' ') + ')');
    banner.textContent = 'Incomplete: ' + (list.length ? list.join(', ') : 'the provider set') +
      ' could not be synced within the deadline. The numbers below may miss their responses.';
    banner.dataset.missing = [...missing.keys()].sort().join(',');
    banner.hidden = false;
  }

  function setNumber(id, n, incomplete) {
    const el = $(id);
    el.textContent = n.toLocaleString('en-US') + (incomplete ? ' (incomplete)' : '');
    el.dataset.value = String(n);
    el.classList.toggle('incomplete', incomplete);
  }

  function svg(tag, attrs, text) {
    const el = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function floorTo(t, interval) {
    const ms = INTERVALS[interval];
    return Math.floor(t / ms) * ms;
  }

  function label(t, interval) {
    const iso = new Date(t).toISOString();
    if (interval === '1d') return iso.slice(0, 10);
    if (interval === '1h') return iso.slice(5, 10) + ' ' + iso.slice(11, 16);
    return iso.slice(11, 16);
  }

  function renderTime(f, now, r, colors) {
    const interval = r.interval;
    const step = INTERVALS[interval];
    const byTime = new Map();
    let earliest = Infinity;
    for (const g of r.body.groups) {
      const t = Date.parse(g.key.time);
      earliest = Math.min(earliest, t);
      if (!byTime.has(t)) byTime.set(t, new Map());
      byTime.get(t).set(g.key.provider, g.count);
    }
    const to = floorTo(f.until ? Math.min(Date.parse(f.until) - 1, now) : now, interval);
    // Without since, at least 30 buckets up to now, so that one busy
    // minute reads as a moment, not as all of time.
    const from = floorTo(f.since ? Date.parse(f.since) : Math.min(isFinite(earliest) ? earliest : now, to - 29 * step), interval);
    const buckets = [];
    for (let t = from; t <= to && buckets.length < 2000; t += step) buckets.push(t);
    const providers = [...colors.keys()].filter((p) => r.body.groups.some((g) => g.key.provider === p));
    let max = 0;
    for (const t of buckets) {
      let sum = 0;
      for (const n of (byTime.get(t) || new Map()).values()) sum += n;
      max = Math.max(max, sum);
    }
    $('interval').textContent = '(per ' + {'1m': 'minute', '1h': 'hour', '1d': 'day'}[interval] + ', UTC)';
    const box = $('chart-time');
    box.dataset.interval = interval;
    box.dataset.total = String(r.body.groups.reduce((s, g) => s + g.count, 0));

    // Drawn at the size it is shown at, so that its text stays readable.
    const W = Math.max(280, Math.round($('time-svg').clientWidth || 800)), H = 220, L = 44, B = 24, T = 8;
    const bw = (W - L) / Math.max(buckets.length, 1);
    const total = Number(box.dataset.total);
    const s = svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `Responses over time: ${total} in ${buckets.length} buckets, at most ${max} in one`});
    s.appendChild(svg('line', {x1: L, y1: H - B, x2: W, y2: H - B, class: 'axis'}));
    s.appendChild(svg('text', {x: L - 6, y: T + 10, 'text-anchor': 'end', class: 'tick'}, String(max)));
    s.appendChild(svg('text', {x: L - 6, y: H - B, 'text-anchor': 'end', class: 'tick'}, '0'));
    if (buckets.length) {
      s.appendChild(svg('text', {x: L, y: H - 6, class: 'tick'}, label(buckets[0], interval)));
      s.appendChild(svg('text', {x: W, y: H - 6, 'text-anchor': 'end', class: 'tick'}, label(buckets[buckets.length - 1], interval)));
    }
    buckets.forEach((t, i) => {
      const counts = byTime.get(t);
      if (!counts) return;
      let y = H - B;
      const parts = [];
      for (const p of providers) {
        const n = counts.get(p) || 0;
        if (!n) continue;
        const h = max ? (n / max) * (H - B - T) : 0;
        y -= h;
        const rect = svg('rect', {x: L + i * bw + bw * 0.1, y, width: Math.max(bw * 0.8, 1), height: h, fill: colors.get(p), class: 'bar'});
        rect.dataset.provider = p;
        rect.dataset.count = String(n);
        rect.appendChild(svg('title', {}, `${label(t, interval)} UTC · ${p}: ${n}`));
        parts.push(rect);
      }
      const g = svg('g', {class: 'bucket'});
      g.dataset.time = new Date(t).toISOString();
      for (const p of parts) g.appendChild(p);
      s.appendChild(g);
    });
    $('time-svg').replaceChildren(s);

    const legend = $('time-legend');
    legend.replaceChildren(...providers.map((p) => {
      const li = document.createElement('li');
      const sw = svg('svg', {width: 12, height: 12, 'aria-hidden': 'true'});
      sw.appendChild(svg('rect', {width: 12, height: 12, fill: colors.get(p)}));
      const sum = r.body.groups.filter((g) => g.key.provider === p).reduce((a, g) => a + g.count, 0);
      li.append(sw, ' ' + p + ': ' + sum);
      return li;
    }));

    const table = $('time-table');
    const head = document.createElement('tr');
    for (const h of ['Bucket (UTC)', ...providers, 'Total']) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      head.appendChild(th);
    }
    const rows = buckets.filter((t) => byTime.has(t)).map((t) => {
      const tr = document.createElement('tr');
      const counts = byTime.get(t);
      const cells = [label(t, interval), ...providers.map((p) => counts.get(p) || 0)];
      cells.push([...counts.values()].reduce((a, b) => a + b, 0));
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = String(c);
        tr.appendChild(td);
      }
      return tr;
    });
    const thead = document.createElement('thead');
    thead.appendChild(head);
    const tbody = document.createElement('tbody');
    tbody.append(...rows);
    table.replaceChildren(thead, tbody);
  }

  function renderTop(id, dim, body, title) {
    const groups = body.groups;
    const W = Math.max(260, Math.round($(id).clientWidth || 400)), row = 26, L = Math.min(130, Math.round(W / 3)), R = 56;
    const H = Math.max(groups.length, 1) * row + 4;
    const max = groups.reduce((m, g) => Math.max(m, g.count), 0);
    const s = svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-label': title + ': ' + (groups.map((g) => `${g.key[dim]} ${g.count}`).join(', ') || 'none')});
    if (!groups.length) s.appendChild(svg('text', {x: 0, y: 18, class: 'tick'}, 'No responses'));
    groups.forEach((g, i) => {
      const y = i * row + 4;
      const name = g.key[dim];
      const shown = name.length > 18 ? name.slice(0, 17) + '…' : name;
      const t = svg('text', {x: L - 8, y: y + 16, 'text-anchor': 'end', class: 'name'}, shown || '(empty)');
      t.appendChild(svg('title', {}, name));
      const w = max ? (g.count / max) * (W - L - R) : 0;
      const bar = svg('rect', {x: L, y: y + 3, width: Math.max(w, 1), height: row - 8, class: 'hbar'});
      bar.appendChild(svg('title', {}, `${name}: ${g.count}`));
      const n = svg('text', {x: L + w + 6, y: y + 16, class: 'count'}, String(g.count));
      const grp = svg('g', {class: 'group'});
      grp.dataset.key = name;
      grp.dataset.count = String(g.count);
      grp.append(t, bar, n);
      s.appendChild(grp);
    });
    const box = $(id);
    box.replaceChildren(s);
    if (body.truncated) {
      const p = document.createElement('p');
      p.className = 'sub';
      p.textContent = `The ${groups.length} largest of more.`;
      box.appendChild(p);
    }
  }

  // delay is a visibility delay as people read it: 0 s, 5 s, 6 min.
  function delay(ms) {
    return ms < 60000 ? Math.round(ms / 1000) + ' s' : Math.round(ms / 60000) + ' min';
  }

  function renderSync(sync) {
    const rows = Object.keys(sync.providers).sort().map((name) => {
      const p = sync.providers[name];
      const tr = document.createElement('tr');
      tr.dataset.provider = name;
      tr.dataset.status = p.status;
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = name;
      const status = document.createElement('td');
      const badge = document.createElement('span');
      badge.className = 'badge ' + (p.status === 'ok' ? 'ok' : 'bad');
      badge.textContent = p.status.replace('_', ' ');
      status.appendChild(badge);
      const cells = [
        p.status === 'ok' ? '0 s' : (p.lag_ms / 1000).toFixed(1) + ' s',
        p.synced_at ? clock(new Date(p.synced_at), true) : 'never',
        delay(p.visible_after_ms || 0),
        [p.error, p.quarantined ? p.quarantined + ' quarantined' : ''].filter(Boolean).join('; '),
      ].map((v) => {
        const td = document.createElement('td');
        td.textContent = v;
        return td;
      });
      tr.append(th, status, ...cells);
      return tr;
    });
    $('sync-table').tBodies[0].replaceChildren(...rows);
  }

  function renderLatest(body) {
    nextCursor = body.next_cursor;
    const rows = body.data.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.provider = r.provider;
      tr.dataset.providerId = r.provider_id;
      for (const v of [clock(new Date(r.created_at), true), r.provider, r.survey, r.device, r.location, r.text]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      }
      return tr;
    });
    if (!rows.length) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 6;
      td.textContent = 'No responses match.';
      tr.appendChild(td);
      rows.push(tr);
    }
    $('latest-table').tBodies[0].replaceChildren(...rows);
    $('older').disabled = !nextCursor;
    $('newest').disabled = cursors.length === 0;
    $('latest-page').textContent = cursors.length ? `(page ${cursors.length + 1}, older)` : '(newest first)';
  }

  function renderTraces(main, answers) {
    const link = $('trace-link');
    if (main) {
      link.href = jaegerURL + '/trace/' + encodeURIComponent(main);
      link.textContent = main;
    } else {
      link.removeAttribute('href');
      link.textContent = 'none (tracing is off)';
    }
    link.dataset.traceId = main;
    $('trace-list').replaceChildren(...answers.map((a) => {
      const li = document.createElement('li');
      const code = document.createElement('code');
      code.textContent = a.path + ' ';
      li.appendChild(code);
      if (a.traceId) {
        const l = document.createElement('a');
        l.href = jaegerURL + '/trace/' + encodeURIComponent(a.traceId);
        l.target = '_blank';
        l.rel = 'noopener noreferrer';
        l.textContent = a.traceId;
        li.appendChild(l);
      }
      return li;
    }));
  }

  function fillList(id, values) {
    const list = $(id);
    list.replaceChildren(...[...new Set(values)].sort().map((v) => {
      const o = document.createElement('option');
      o.value = v;
      return o;
    }));
  }

  function clock(d, withDate) {
    const iso = d.toISOString();
    return withDate ? iso.slice(0, 10) + ' ' + iso.slice(11, 19) : iso.slice(11, 19);
  }

  function setStatus(text) {
    $('status').textContent = text;
  }

  function showError(e) {
    const el = $('error');
    let text = 'The last refresh failed: ' + e.message;
    if (e.status === 504) text += '. A longer timeout may help.';
    if (e.traceId) text += ' (trace ' + e.traceId + ')';
    // What is still shown is older than this refresh: say so.
    text += lastUpdate ? ' What is shown is from ' + clock(lastUpdate) + ' UTC.' : '';
    document.body.dataset.complete = 'false';
    el.textContent = text;
    el.hidden = false;
    setStatus('Refresh failed');
  }

  function hideError() {
    $('error').hidden = true;
  }

  function showPaused() {
    $('pause').textContent = paused ? 'Resume live refresh' : 'Pause live refresh';
    $('pause').setAttribute('aria-pressed', String(paused));
    if (paused) setStatus('Paused');
  }

  // --- CSV -----------------------------------------------------------------

  async function downloadCSV() {
    const button = $('csv');
    button.disabled = true;
    const c = new AbortController();
    try {
      const resp = await send(API + '/responses.csv' + query(readFilter()), c.signal);
      if (!resp.ok) {
        const body = await resp.json().catch(() => null);
        throw new APIError(resp.status, (body && body.error) || ('HTTP ' + resp.status), resp.headers.get('X-Trace-Id') || '');
      }
      const complete = resp.headers.get('X-Sync-Complete') === 'true';
      const missing = resp.headers.get('X-Sync-Missing') || '';
      const blob = await resp.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = 'responses.csv';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60e3);
      setStatus(complete ? 'CSV downloaded, complete' : 'CSV downloaded, INCOMPLETE: missing ' + missing);
    } catch (e) {
      if (e.name !== 'AbortError') showError(e);
    } finally {
      button.disabled = false;
    }
  }

  // --- wiring --------------------------------------------------------------

  function applyFilter(f) {
    const q = query(f);
    history.replaceState(null, '', location.pathname + q);
    cursors = [];
    restart();
  }

  $('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilter(formFilter());
  });
  $('clear').addEventListener('click', () => {
    showFilter({});
    applyFilter({});
  });
  $('csv').addEventListener('click', downloadCSV);
  $('pause').addEventListener('click', () => {
    paused = !paused;
    showPaused();
    if (paused) clearTimeout(timer); else restart();
  });
  $('older').addEventListener('click', () => {
    if (!nextCursor) return;
    cursors.push(nextCursor);
    restart();
  });
  $('newest').addEventListener('click', () => {
    cursors = [];
    restart();
  });
  window.addEventListener('popstate', () => {
    showFilter(readFilter());
    cursors = [];
    restart();
  });

  showFilter(readFilter());
  refresh();
})();
