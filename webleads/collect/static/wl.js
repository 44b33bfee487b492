/*! wl.js: the webleads-tracker tag, served as written. Notes: wl.src.md, docs/tracker.md
 * SENDS JSON POSTs to data-api. Hits: site, type, url, ts, visitor, consent; pageview:
 * referrer, title; engagement: engaged_ms; click, download, event: name, props; forms with
 * data-wl-form: name, email, props.id (no other field); identify: email, traits.
 * STORES the cookie _wl_vid (random id, 13 months), not with data-cookieless or before
 * consent with data-consent. Sends nothing with the cookie _wl_optout=1, under DNT/GPC with
 * data-respect-dnt, or before wl('consent', true) with data-consent="wait".
 */
((w, d, n, loc) => {
  let s = d.currentScript, calls = w.wl?.q || [], q = [], since = 0, cur = loc.href,
    timer, site, api, vid, o, ok;

  let safe = f => (a, b, c) => { try { f(a, b, c) } catch {} };
  let on = (t, e, f) => t.addEventListener(e, safe(f), true);
  let flat = (o, r = {}) => {
    for (let k in o) if (/^(string|number|boolean)$/.test(typeof o[k])) r[k] = o[k];
    return r;
  };

  let ck = v => (d.cookie = `_wl_vid=${v}; max-age=${v ? 33696000 : 0}; path=/; SameSite=Lax` +
    (loc.protocol == 'https:' ? '; Secure' : ''), v);
  let ident = () => vid = !('cookieless' in o) && (ok ?? !o.consent) &&
    (d.cookie.match(/(?:^|; )_wl_vid=([\w-]{22})/)?.[1] ||
      ck(btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
        .slice(0, 22).replace(/\+/g, '-').replace(/\//g, '_'))) || void 0;

  let hit = (type, x) => {
    q.push({ site, type, url: cur, ts: Date.now(), ...x });
    timer ||= setTimeout(() => { timer = 0; flush() }, 300);
  };
  let flush = safe(() => {
    while (q.length && (ok || o.consent != 'wait')) {
      let b = q.splice(0, 100).map(h => ({ ...h, visitor: vid, consent: ok })),
        body = JSON.stringify(b[1] ? b : b[0]);
      n.sendBeacon?.(api, body) || fetch(api, { method: 'POST', body, keepalive: true })
        .catch(() => {});
    }
  });

  let beat = () => {
    let t = Date.now(), ms = since && t - since;
    since &&= t;
    if (ms > 0) hit('engagement', { engaged_ms: ms });
  };
  let leave = () => { beat(); since = 0; flush() };
  let nav = safe(() => {
    let ref = cur;
    if (loc.href.split('#')[0] != ref.split('#')[0]) {
      beat();
      cur = loc.href;
      hit('pageview', { referrer: ref, title: d.title });
    }
  });

  let click = e => {
    let a = e.target.closest('a[href]'), u = a && new URL(a.href);
    if (!a || e.button > 1) return;
    if (/\.(pdf|docx?|xlsx?|pptx?|zip)$/i.test(u.pathname)) {
      hit('download', { name: 'download', props: { href: u.href } });
    } else if (/^https?:$/.test(u.protocol) && u.host != loc.host) {
      hit('click', { name: 'outbound', props: { href: u.href } });
    }
  };

  let submit = ({ target: f }) => {
    let id = f.getAttribute('id') || void 0, name = f.dataset.wlForm,
      el = f.querySelector('input[type=email],input[name*=email i]:not([type=password])');
    if (name != null) {
      hit('form', { name: name || id, email: el?.value || void 0, props: { id } });
    }
  };

  let wl = safe((c, a, b) => {
    if (c == 'event' && a) hit('event', { name: '' + a, props: flat(b) });
    if (c == 'identify' && a) hit('identify', { email: '' + a, traits: flat(b) });
    if (c == 'consent') ok = a === !0, ident(), ok || ck(''), flush();
  });

  safe(() => {
    w.wl = () => {};
    o = s.dataset;
    site = o.site;
    if (!site || /(^|; )_wl_optout=1/.test(d.cookie) ||
      'respectDnt' in o && (n.doNotTrack == 1 || n.globalPrivacyControl)) return;
    api = o.api || new URL('/api/collect', s.src);
    if (!d.hidden) since = Date.now();
    hit('pageview', { referrer: d.referrer, title: d.title });
    for (let m of ['pushState', 'replaceState']) {
      let orig = history[m];
      history[m] = function () { orig.apply(this, arguments); nav() };
    }
    on(w, 'popstate', nav);
    on(w, 'pagehide', leave);
    on(d, 'visibilitychange', () => d.hidden ? leave() : since ||= Date.now());
    on(d, 'click', click);
    on(d, 'auxclick', click);
    on(d, 'submit', submit);
    setInterval(safe(beat), 15000);
    w.wl = wl;
    calls.forEach(c => wl(...c));
    ident();
  })();
})(window, document, navigator, location);
