import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import supertest from 'supertest';
import { sessionCookieOf } from '../helpers/app';
import { startServerProcess } from '../helpers/processes';
import { sharedStoresUnderTest, testSecret } from '../helpers/stores';

for (const store of sharedStoresUnderTest) {
  describe(`two app processes sharing one ${store.name} store`, () => {
    it('see each other’s writes and lose none of 50 concurrent keys spread over both', async () => {
      const options = { ...store.options(), secret: testSecret };
      const [first, second] = await Promise.all([startServerProcess(options), startServerProcess(options)]);
      const cookie = sessionCookieOf(await supertest(first).put('/keys/user').send({ value: 'Sharon' }))!;
      const readElsewhere = await supertest(second).get('/session').set('Cookie', cookie);
      assert.deepEqual(readElsewhere.body.data, { user: 'Sharon' });

      await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          supertest(index % 2 ? first : second)
            .put(`/keys/key${index}?delay=${index % 7}`)
            .set('Cookie', cookie)
            .send({ value: index })
            .expect(200),
        ),
      );
      const data = (await supertest(second).get('/session').set('Cookie', cookie)).body.data;
      assert.equal(Object.keys(data).filter((key) => key.startsWith('key')).length, 50);
      assert.equal(data.user, 'Sharon');
    });
  });
}
