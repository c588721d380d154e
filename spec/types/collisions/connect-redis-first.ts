/**
 * An app that has connect-redis (which brings @types/express-session) and this library, imported in this
 * order, compiled with skipLibCheck: false: it compiles, and request.session has the app's keys (cart.ts).
 */
import { RedisStore } from 'connect-redis';
import session from 'routing-controllers-session';
import { addToCart } from './cart.js';

export const handler = session({ store: new RedisStore({ client: {} as never }) });
export { addToCart };
