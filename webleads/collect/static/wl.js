/*! wl.js: the webleads-tracker tag, served as written. Notes: wl.src.md
 * SENDS a text/plain JSON POST (one hit, or an array of up to 100) to data-api, by default
 * script origin + /api/collect. Every hit: site, type, url, ts, visitor (cookie mode); plus
 *   pageview: referrer, title      engagement: engaged_ms (visible time)
 *   click: name "outbound", props.href      download: name "download", props.href
 *   form (data-wl-form only): name, email, props.id; no other field is read
 *   event: name, props      identify: email, traits
 * STORES the cookie _wl_vid (random id, 13 months, SameSite=Lax); data-cookieless: nothing.
 * data-respect-dnt: sends nothing under Do Not Track or Global Privacy Control.
 */
((w, d, n, loc) => {
  let s = d.currentScript, calls = w.wl?.q || [], q = [], since = 0, cur = loc.href,
    timer, site, api, vid;

  let safe = f => (a, b, c) => { try { f(a, b, c) } catch {} };
  let on = (t, e, f) => t.addEventListener(e, safe(f), true);
  let flat = (o, r = {}) => {
    for (let k in o) if (/^(string|number|boolean)$/.test(typeof o[k])) r[k] = o[k];
    return r;
  };

  // hits leave 300 ms later, or at once when the page is hidden
  let hit = (type, o) => {
    q.push({ site, type, url: cur, ts: Date.now(), visitor: vid, ...o });
    timer ||= setTimeout(() => { timer = 0; flush() }, 300);
  };
  let flush = safe(() => {
    while (q.length) {
      let b = q.splice(0, 100), body = JSON.stringify(b[1] ? b : b[0]);
      n.sendBeacon?.(api, body) || fetch(api, { method: 'POST', body, keepalive: true })
        .catch(() => {});
    }
  });

  // since: when the page became visible, 0 while hidden
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
    let id = f.getAttribute('id') || undefined, name = f.dataset.wlForm,
      el = f.querySelector('input[type=email],input[name*=email i]:not([type=password])');
    if (name != null) {
      hit('form', { name: name || id, email: el?.value || undefined, props: { id } });
    }
  };

  let wl = safe((c, a, b) => {
    if (c == 'event' && a) hit('event', { name: '' + a, props: flat(b) });
    if (c == 'identify' && a) hit('identify', { email: '' + a, traits: flat(b) });
  });

  safe(() => {
    w.wl = () => {};
    let o = s.dataset;
    site = o.site;
    if (!site || 'respectDnt' in o && (n.doNotTrack == 1 || n.globalPrivacyControl)) return;
    api = o.api || new URL('/api/collect', s.src);
    if (!('cookieless' in o)) {
      vid = d.cookie.match(/(?:^|; )_wl_vid=([\w-]{22})/)?.[1];
      if (!vid) {
        vid = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
          .slice(0, 22).replace(/\+/g, '-').replace(/\//g, '_');
        d.cookie = `_wl_vid=${vid}; max-age=33696000; path=/; SameSite=Lax` +
          (loc.protocol == 'https:' ? '; Secure' : '');
      }
    }
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
  })();
})(window, document, navigator, location);
