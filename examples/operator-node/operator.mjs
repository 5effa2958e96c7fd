// An operator's own system, in Node: it records a counselling session and a referral
// with the platform, then reads what became of the referral.
//
//   IM_NATS_URL, IM_NATS_USER, IM_NATS_PASSWORD   what `im operators add ID` printed
//   IM_OPERATOR                                     the operator id (the events' source)
//   IM_SITE, IM_RESIDENT                            a shelter you run, a resident living there
//   IM_TOPIC (housing_search), IM_FEEDBACK_WAIT (30 seconds)
//
// Events are CloudEvents 1.0 in structured JSON mode (the CloudEvents SDK builds and checks
// them), published to JetStream on im.ops.<operator>.<event>.<resident> with Nats-Msg-Id =
// the event id, so sending one again has effect once. Feedback comes from the durable pull
// consumer fb_<operator> on IM_FEEDBACK, the only one your user may read; each message is
// acknowledged once handled, so the next run gets only what came since.
import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';

function need(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (!value) {
    console.error(`set ${name} (see README.md)`);
    process.exit(2);
  }
  return value;
}

const url = need('IM_NATS_URL');
const user = need('IM_NATS_USER');
const operator = need('IM_OPERATOR');
const site = need('IM_SITE');
const resident = need('IM_RESIDENT');
const topic = need('IM_TOPIC', 'housing_search');
const waitMs = Number(need('IM_FEEDBACK_WAIT', '30')) * 1000;
const today = new Date().toISOString().slice(0, 10);

// The platform lets each user subscribe only to its own inboxes: _INBOX_<user>.
const nc = await connect({
  servers: url.split(','),
  user,
  pass: need('IM_NATS_PASSWORD'),
  inboxPrefix: `_INBOX_${user}`,
  name: `operator ${operator} (Node example)`,
});
const js = jetstream(nc);

// One CloudEvent about one resident. The type is said once, in the envelope: the data
// does not repeat it (the platform's feedback does not either).
function event(name, data) {
  return new CloudEvent({
    id: randomUUID().replaceAll('-', ''),
    source: operator,
    type: `im.operator.${name}.v1`,
    subject: resident,
    datacontenttype: 'application/json',
    data: { resident_id: resident, site_id: site, ...data },
  });
}

async function publish(name, ce) {
  const subject = `im.ops.${operator}.${name}.${resident}`;
  const ack = await js.publish(subject, JSON.stringify(ce.toJSON()), { msgID: ce.id });
  console.log(`published ${ce.type} ${ce.id} on ${subject} (stream ${ack.stream}, ` +
              `sequence ${ack.seq}${ack.duplicate ? ', a duplicate: no effect' : ''})`);
}

const session = `s-${randomUUID().slice(0, 8)}`;
const referral = `ref-${randomUUID().slice(0, 8)}`;
await publish('session_recorded', event('session_recorded', {
  session_id: session, category: 'social_law', held_on: today, duration_minutes: 45,
  interpreter: true, counsellor: 'sw-node-1',
}));
await publish('referral_requested', event('referral_requested', {
  referral_id: referral, topic, requested_on: today, session_id: session,
}));

// The operator may not ask for the consumer's info (its account has no JetStream of its
// own): bind to it by name and fetch.
const feedback = js.consumers.getConsumerFromInfo({
  stream_name: 'IM_FEEDBACK',
  name: `fb_${operator}`,
  config: { durable_name: `fb_${operator}`, ack_policy: 'explicit' },
});
const deadline = Date.now() + waitMs;
let answered = false;
while (!answered && Date.now() < deadline) {
  const batch = await feedback.fetch({ max_messages: 32, expires: 1000 });
  for await (const msg of batch) {
    const ce = new CloudEvent(msg.json());  // checks the envelope
    const d = ce.data;
    console.log(`feedback ${ce.type}: referral ${d.referral_id} (${d.topic})` +
                (d.owner ? ` handed to ${d.owner}` : '') + (d.by ? ` by ${d.by}` : '') +
                (d.reason ? `: ${d.reason}` : ''));
    msg.ack();
    if (d.referral_id === referral) answered = true;
  }
}
await nc.drain();
if (!answered) {
  console.error(`no feedback on referral ${referral} within ${waitMs / 1000} s`);
  process.exit(1);
}
console.log(`referral ${referral} has feedback`);
