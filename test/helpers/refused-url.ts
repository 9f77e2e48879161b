import net from 'node:net';

/** A loopback URL where nothing listens: connections to it are refused (a service that is down). */
export async function refusedUrl(scheme: 'http' | 'redis'): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `${scheme}://127.0.0.1:${port}${scheme === 'http' ? '/' : ''}`;
}
