/** The same app with the imports the other way round (see connect-redis-first.ts). */
import session from 'routing-controllers-session';
import { RedisStore } from 'connect-redis';
import { addToCart } from './cart.js';

export const handler = session({ store: new RedisStore({ client: {} as never }) });
export { addToCart };
