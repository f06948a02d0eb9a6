// tests/s3/faultproxy.js LISTEN_PORT TARGET_PORT -- an HTTP proxy on loopback in front of the
// test S3 server that injects faults chosen by the request's path, so a test picks the fault
// through the key it uses and no state is shared between tests:
//   a path containing "fault-503x<N>"  answers the first N requests for that method and path
//                                      with 503 SlowDown (S3's throttling answer), then forwards;
//   "fault-500x<N>"                    the same with 500 InternalError;
//   "fault-500always"                  always 500 InternalError;
//   "fault-stall"                      never answers (the client's timeout must fire);
//   "fault-reset"                      reads the request, then drops the connection;
//   "fault-region"                     400 AuthorizationHeaderMalformed naming region eu-west-3
//                                      (what S3 answers a request signed for another region);
//   "fault-quota"                      507 XMinioStorageFull (a full store or a reached quota).
// Every other request is forwarded unchanged (headers, body, streaming both ways).
'use strict';
const http = require('http');

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
const seen = new Map();

function s3Error(res, status, code, message, extra = '') {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message>${extra}<RequestId>fault-proxy</RequestId></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function forward(req, res) {
  const up = http.request({
    host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers,
  }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
}

const server = http.createServer((req, res) => {
  const path = decodeURIComponent(req.url.split('?')[0]);
  const id = `${req.method} ${req.url}`;
  const count = (seen.get(id) || 0) + 1;
  seen.set(id, count);
  const m = /fault-(503|500)x(\d+)/.exec(path);
  if (m && count <= Number(m[2])) {
    req.resume();
    req.on('end', () => (m[1] === '503'
      ? s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.')
      : s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.')));
    return;
  }
  if (path.includes('fault-500always')) {
    req.resume();
    req.on('end', () => s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.'));
    return;
  }
  if (path.includes('fault-region')) {
    req.resume();
    req.on('end', () => s3Error(res, 400, 'AuthorizationHeaderMalformed',
      "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-3'",
      '<Region>eu-west-3</Region>'));
    return;
  }
  if (path.includes('fault-quota')) {
    req.resume();
    req.on('end', () => s3Error(res, 507, 'XMinioStorageFull', 'Storage backend has reached its minimum free drive threshold.'));
    return;
  }
  if (path.includes('fault-stall')) {
    req.resume();
    return; // never answered; the client gives up
  }
  if (path.includes('fault-reset')) {
    req.resume();
    req.on('end', () => req.socket.destroy());
    return;
  }
  forward(req, res);
});
server.keepAliveTimeout = 1000;
server.listen(listenPort, '127.0.0.1');
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
