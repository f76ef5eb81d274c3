/**
 * Ceiling 1: a bare Express endpoint that reads the same POST and answers 200 — what Node and
 * Express cost before the service does anything. Prints its URL on stdout.
 */
import express from 'express';

const app = express();
app.disable('x-powered-by');
app.post('/webhook', express.raw({ type: () => true, limit: 3_670_016 }), (_req, res) => {
  res.status(200).json({ status: 'accepted' });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` })}\n`);
});
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
