import { createApp } from './app';

const port = Number(process.env.PORT ?? 3000);
createApp().listen(port, () => {
  console.log(`The sample app listens on http://localhost:${port} (open it in a browser)`);
  console.log(
    'Try: curl -c jar -b jar -X POST localhost:' +
      port +
      '/users && curl -b jar localhost:' +
      port +
      '/session',
  );
});
