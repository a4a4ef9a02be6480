// Measures, and asserts nothing about speed: how long until a person opening a room sees its
// latest message (server-rendered, then hydrated and live), and how long a message takes from
// Enter in one browser to the other's screen. Figures are printed as TAP comments.
import { test, before, after } from 'node:test';
import {
  launch, person, open, uniqueName, api, createRoom, say, seeMessage, assertNoPageErrors,
} from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  assertNoPageErrors();
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test('time to the first message, and from Enter to the other screen', async (t) => {
  const a = await person(browser, 'ana');
  const b = await person(browser, 'bob');
  const room = await createRoom(a.page, { name: uniqueName('Timing'), join_policy: 'open' });
  await api(b.page, '/api/rooms/join', { room_id: room.id });
  // A page of history to render (the send limit allows 5 at once, then 1 a second).
  for (let i = 0; i < 12; i++) {
    await api(a.page, '/api/messages/send', { room_id: room.id, client_id: uniqueName('t'), body: `filler ${i}` });
    if (i >= 4) await new Promise((r) => setTimeout(r, 1050));
  }

  const shown = [];
  const live = [];
  for (let i = 0; i < 5; i++) {
    const start = Date.now();
    await b.page.goto(`/rooms/${room.id}`);
    await b.page.getByRole('log').getByText('filler 11').waitFor();
    shown.push(Date.now() - start);
    await b.page.waitForSelector('body[data-hydrated="true"]');
    await b.page.locator('#online-heading').waitFor();
    live.push(Date.now() - start);
  }
  t.diagnostic(`first message on screen: median ${median(shown)} ms; hydrated and live: median ${median(live)} ms (5 loads)`);

  await open(a.page, `/rooms/${room.id}`);
  const delivery = [];
  for (let i = 0; i < 10; i++) {
    const text = `ping ${i} ${uniqueName('')}`;
    const start = Date.now();
    await say(a.page, text);
    await seeMessage(b.page, text);
    delivery.push(Date.now() - start);
    await new Promise((r) => setTimeout(r, 1100));
  }
  t.diagnostic(`Enter to the other screen: median ${median(delivery)} ms, max ${Math.max(...delivery)} ms (10 messages)`);
  for (const p of [a, b]) await p.page.context().close();
});
