// The smallest Lambda handler: the baseline every function bundle's size and init time is read against.
export const handler = async () => ({ statusCode: 200, body: 'ok' });
