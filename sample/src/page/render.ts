import type { UserSessionInfo } from 'routing-controllers-session';
import { timeAgo } from './time-ago';
import { describeUserAgent } from './user-agent';

/** A message at the top of the page: `info` (done), `warning` (something happened to you), `error` (refused). */
export interface PageMessage {
  kind: 'info' | 'warning' | 'error';
  text: string;
}

/** The page's state, as the controller gathers it. */
export interface PageView {
  user: { name: string } | undefined;
  /** When the user signed in before this time (ms); undefined for a first sign-in. */
  previousSignIn?: number;
  messages: PageMessage[];
  cart: string[];
  sessions: UserSessionInfo[];
  demo: { username: string; password: string };
  /** The time the page is rendered at (ms), for "last used 2 minutes ago". */
  now: number;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

const iso = (at: number) => new Date(at).toISOString();

const time = (at: number) => iso(at).replace('T', ' ').slice(0, 19);

function signInForm(demo: PageView['demo']): string {
  return `
    <form method="post" action="/page/login">
      <h2>Sign in</h2>
      <label>Username <input name="username" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
      <p class="hint">Demo account: <code>${escape(demo.username)}</code> / <code>${escape(demo.password)}</code></p>
    </form>`;
}

function previousSignIn({ previousSignIn: at, now }: PageView): string {
  if (at === undefined) return 'This is your first sign-in since the app started.';
  return `Your sign-in before this one: <time datetime="${iso(at)}" title="${time(at)} UTC">${timeAgo(at, now)}</time>`;
}

function signedIn(view: PageView & { user: { name: string } }): string {
  const items =
    view.cart.map((item) => `<li>${escape(item)}</li>`).join('') || '<li class="empty">empty</li>';
  const sessions = view.sessions
    .map(
      (entry) =>
        `<li><span class="device" title="${escape(entry.userAgent ?? '')}">${escape(
          describeUserAgent(entry.userAgent),
        )}</span>${entry.current ? ' <strong>(this device)</strong>' : ''}` +
        `<br><span class="when">last used <time datetime="${iso(entry.lastSeenAt)}" title="${time(
          entry.lastSeenAt,
        )} UTC">${timeAgo(entry.lastSeenAt, view.now)}</time>, signed in ${time(entry.createdAt)} UTC</span></li>`,
    )
    .join('');
  return `
    <p id="signed-in">Signed in as <strong id="user-name">${escape(view.user.name)}</strong></p>
    <p id="previous-sign-in">${previousSignIn(view)}</p>
    <section>
      <h2>Cart</h2>
      <ul id="cart">${items}</ul>
      <form method="post" action="/cart">
        <label>Item <input name="item" required></label>
        <button type="submit">Add to cart</button>
      </form>
    </section>
    <section>
      <h2>Your sessions</h2>
      <ul id="sessions">${sessions}</ul>
      <form method="post" action="/page/sign-out-others"><button type="submit">Sign out my other devices</button></form>
    </section>
    <form method="post" action="/page/logout"><button type="submit">Sign out of this device</button></form>`;
}

/** The sample's one HTML page: sign-in form, or the signed-in user's cart and sessions. */
export function renderPage(view: PageView): string {
  const messages = view.messages
    .map(
      ({ kind, text }) =>
        `<p class="flash ${kind}"${kind === 'info' ? '' : ' role="alert"'}>${escape(text)}</p>`,
    )
    .join('');
  const { user } = view;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>routing-controllers-session sample</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
    h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
    label { display: block; margin: .4rem 0; } input { margin-left: .5rem; }
    .flash { padding: .5rem .8rem; border-radius: 4px; border: 1px solid; }
    .flash.info { background: #e8f4e8; border-color: #9c9; }
    .flash.warning { background: #fdf6e3; border-color: #e0c36a; }
    .flash.error { background: #fbeaea; border-color: #d88; color: #8a1f1f; }
    form { margin: .6rem 0; } #sessions li { margin: .3rem 0; }
    .hint, .empty, .when { color: #666; } .when { font-size: .9rem; }
  </style>
</head>
<body>
  <h1>routing-controllers-session sample</h1>
  <div id="messages">${messages}</div>
  ${user ? signedIn({ ...view, user }) : signInForm(view.demo)}
</body>
</html>`;
}
