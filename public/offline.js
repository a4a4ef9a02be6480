// The page Parlor shows while its server cannot answer (the service worker's offline page,
// and the 503 page while the database is down): a countdown, a "try now" button, and a
// reload into the app as soon as the server answers. No framework: it must work when
// nothing else does.
(() => {
  const probe = document.body.dataset.probe || '/healthz';
  const countdown = document.querySelector('[data-countdown]');
  const retry = document.querySelector('[data-retry]');
  let wait = 2;
  let left = wait;
  let timer = null;

  const tick = () => {
    if (left <= 0) {
      tryNow();
      return;
    }
    countdown.textContent = `Trying again in ${left} s.`;
    left -= 1;
  };

  async function tryNow() {
    clearInterval(timer);
    countdown.textContent = 'Trying now…';
    try {
      const res = await fetch(probe, { cache: 'no-store' });
      if (res.ok) {
        countdown.textContent = 'Back. Loading Parlor…';
        window.location.reload();
        return;
      }
    } catch {
      // Still unreachable.
    }
    wait = Math.min(wait * 2, 30);
    left = wait;
    tick();
    timer = setInterval(tick, 1000);
  }

  retry.hidden = false;
  retry.addEventListener('click', tryNow);
  tick();
  timer = setInterval(tick, 1000);
})();
