// Compose service `mongo-init` (image mongo:8.0): `mongosh --nodb --quiet init.js`.
// Idempotent, run on every `docker compose up`:
//  1. initiates the replica set IM_MONGO_REPLSET over IM_MONGO_MEMBERS unless it already is,
//     connected to the first member as the root user the image created there
//     (IM_MONGO_ROOT_USERNAME/PASSWORD = that member's MONGO_INITDB_ROOT_USERNAME/PASSWORD);
//  2. waits for a primary;
//  3. creates, or updates to the current password and roles, every user in IM_MONGO_USERS
//     (JSON written by infra/generate.py: one per service and one for the gateway, in the
//     admin database, each with readWrite on its own database only; anything else is
//     refused here), the password from the variable the entry names;
//  4. drops the users this script created earlier that are no longer listed (a service
//     that was removed). Users created by hand are left alone.
// Any failure exits non-zero (compose restarts it: restart on-failure).

const env = process.env;
const MANAGED_BY = 'infra/mongo/init.js';
// The password is written unescaped into the service's IM_MONGO_URL (docker-compose.yml).
const URL_SAFE = /^[A-Za-z0-9._~-]{12,}$/;

function need(name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set (see .env.example)`);
  return value;
}

function say(text) {
  print(`mongo-init: ${text}`);
}

function retry(what, fn, tries = 90) {
  for (let i = 1; ; i++) {
    try {
      return fn();
    } catch (e) {
      if (i >= tries) throw e;
      say(`${what}: ${e.message} (attempt ${i}/${tries}, retrying in 2 s)`);
      sleep(2000);
    }
  }
}

function command(db, cmd) {
  const reply = db.adminCommand(cmd); // mongosh throws MongoServerError on ok: 0
  if (!reply.ok) {
    const e = new Error(reply.errmsg || JSON.stringify(reply));
    e.codeName = reply.codeName;
    throw e;
  }
  return reply;
}

const setName = need('IM_MONGO_REPLSET');
const members = need('IM_MONGO_MEMBERS').split(',');
const root = `${encodeURIComponent(need('IM_MONGO_ROOT_USERNAME'))}:` +
  `${encodeURIComponent(need('IM_MONGO_ROOT_PASSWORD'))}@`;

// Everything is checked before anything is changed.
const users = JSON.parse(need('IM_MONGO_USERS'));
for (const u of users) {
  if (!u.roles.length || u.roles.some((r) => r.role !== 'readWrite' || r.db !== u.database)) {
    throw new Error(`${u.user}: only readWrite on its own database ${u.database} is granted, ` +
      `not ${JSON.stringify(u.roles)}`);
  }
  const pwd = need(u.passwordEnv);
  if (pwd === 'change-me' || !URL_SAFE.test(pwd)) {
    throw new Error(`${u.passwordEnv}: set a password of 12 or more URL-safe characters ` +
      '(A-Z a-z 0-9 . _ ~ -), e.g. openssl rand -hex 24');
  }
}

// 1. The replica set, once.
retry('initiate', () => {
  const seed = new Mongo(
    `mongodb://${root}${members[0]}/?authSource=admin&directConnection=true`).getDB('admin');
  try {
    command(seed, { replSetGetStatus: 1 });
    say(`replica set ${setName} already initiated`);
  } catch (e) {
    if (e.codeName !== 'NotYetInitialized') throw e;
    command(seed, {
      replSetInitiate: { _id: setName, members: members.map((host, i) => ({ _id: i, host })) },
    });
    say(`replica set ${setName} initiated with ${members.join(', ')}`);
  }
});

// 2. A primary.
const admin = retry('primary', () => {
  const db = new Mongo(`mongodb://${root}${members.join(',')}/?authSource=admin` +
    `&replicaSet=${setName}&serverSelectionTimeoutMS=5000`).getDB('admin');
  if (!command(db, { hello: 1 }).isWritablePrimary) throw new Error('no primary yet');
  return db;
});

// 3. The users: created, or brought to the password and roles now configured.
for (const u of users) {
  const spec = { pwd: env[u.passwordEnv], roles: u.roles, customData: { managedBy: MANAGED_BY } };
  const exists = command(admin, { usersInfo: { user: u.user, db: 'admin' } }).users.length > 0;
  command(admin, exists ? { updateUser: u.user, ...spec } : { createUser: u.user, ...spec });
  say(`${exists ? 'updated' : 'created'} user ${u.user}: readWrite on ${u.database} only`);
}

// 4. Users this script created for services that are gone.
const listed = new Set(users.map((u) => u.user));
const managed = command(admin, { usersInfo: 1, filter: { 'customData.managedBy': MANAGED_BY } });
for (const u of managed.users) {
  if (!listed.has(u.user)) {
    command(admin, { dropUser: u.user });
    say(`dropped user ${u.user} (no longer configured)`);
  }
}
say('done');
