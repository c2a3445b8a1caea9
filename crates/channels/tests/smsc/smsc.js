#!/usr/bin/env node
// A small SMSC for the SMPP interop tests, on the `smpp` package (an independent SMPP
// implementation), so the ESME is checked against code that is not its own.
//
// It listens for SMPP on 127.0.0.1 and serves a control API over HTTP on 127.0.0.1, both on
// ports the OS picks. Its first line on stdout is JSON:
//   {"ready":true,"smpp_port":N,"control_port":M}
//
// SMPP: bind_transceiver/transmitter/receiver with the configured system_id and password;
// submit_sm acknowledged with a fresh message id, then a delivery receipt (deliver_sm,
// esm_class 0x04, text form, optionally the receipted_message_id/message_state TLVs) after a
// delay; enquire_link and unbind answered. Receipts that cannot be delivered (no bound
// session, or the connection dropped before deliver_sm_resp) wait for the next bind, as an
// SMSC's store and forward does.
//
// Control API (JSON):
//   GET  /pdus?since=N  -> {"pdus":[...], "next":M}  every PDU received, in order
//   GET  /stats         -> counters
//   POST /mo            {"from","to","text","data_coding"?,"parts"?:[text,...],"reference"?}
//   POST /drop          drops every connection at once
//   POST /config        {"receipts","receipt_delay_ms","receipt_tlvs","record","reject":[{"count","status"}],
//                        "respond_delay_ms"}
//   POST /reset         forgets the recorded PDUs
//
// Options: --system-id ID --password PW --receipt-delay-ms MS --no-receipts --receipt-tlvs
//          --no-record

'use strict';

const http = require('http');
const smpp = require('smpp');

const options = {
  systemId: 'recado',
  password: 'secret',
  receipts: true,
  receipt_delay_ms: 50,
  receipt_tlvs: false,
  record: true,
  respond_delay_ms: 0,
  reject: [],
};

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  switch (args[i]) {
    case '--system-id': options.systemId = args[++i]; break;
    case '--password': options.password = args[++i]; break;
    case '--receipt-delay-ms': options.receipt_delay_ms = Number(args[++i]); break;
    case '--no-receipts': options.receipts = false; break;
    case '--receipt-tlvs': options.receipt_tlvs = true; break;
    case '--no-record': options.record = false; break;
    default:
      process.stderr.write(`unknown option ${args[i]}\n`);
      process.exit(2);
  }
}

// Keep the raw short_message of every decoded PDU: the package decodes it into text, and the
// test wants the bytes that were on the wire as well.
const messageFilter = smpp.commands.submit_sm.params.short_message.filter;
const decodeMessage = messageFilter.decode;
messageFilter.decode = function (value, skipUdh) {
  if (Buffer.isBuffer(value)) {
    Object.defineProperty(this, 'rawShortMessage', { value: Buffer.from(value), enumerable: false });
  }
  return decodeMessage.call(this, value, skipUdh);
};

const records = [];
const stats = {
  sessions: 0, binds: 0, bind_failures: 0, submits: 0, receipts_sent: 0, receipts_acked: 0,
  mo_sent: 0, mo_acked: 0, drops: 0,
};
const sessions = new Set();
const undelivered = []; // deliver_sm options waiting for a bound session
let nextSessionId = 1;
let nextMessageId = 0x1000;
let moReference = 0;

function record(session, pdu) {
  if (!options.record) return;
  const entry = {
    index: records.length,
    session: session.recadoId,
    command: pdu.command,
    command_status: pdu.command_status,
    sequence_number: pdu.sequence_number,
  };
  for (const key of ['system_id', 'interface_version', 'source_addr_ton', 'source_addr_npi', 'source_addr',
    'dest_addr_ton', 'dest_addr_npi', 'destination_addr', 'esm_class', 'data_coding', 'registered_delivery',
    'message_id']) {
    if (pdu[key] !== undefined) entry[key] = pdu[key];
  }
  if (pdu.rawShortMessage) entry.short_message_hex = pdu.rawShortMessage.toString('hex');
  if (pdu.short_message && typeof pdu.short_message === 'object' && !Buffer.isBuffer(pdu.short_message)) {
    entry.text = pdu.short_message.message;
    if (pdu.short_message.udh) entry.udh_hex = pdu.short_message.udh.map((b) => b.toString('hex'));
  }
  records.push(entry);
}

function boundSessions() {
  return [...sessions].filter((s) => s.recadoBound && !s.socket.destroyed);
}

// Sends a deliver_sm; if the session drops before deliver_sm_resp, it waits for the next bind.
function deliver(session, pdu, counter) {
  if (!session || !session.recadoBound || session.socket.destroyed) {
    // The submitting session is gone: any other bound session of the account will do.
    const other = boundSessions()[0];
    if (!other) {
      undelivered.push({ pdu, counter });
      return;
    }
    session = other;
  }
  const key = Symbol('delivery');
  session.recadoUnacked.set(key, { pdu, counter });
  session.deliver_sm(Object.assign({}, pdu), (resp) => {
    session.recadoUnacked.delete(key);
    if (resp.command_status === 0) stats[counter + '_acked']++;
    else undelivered.push({ pdu, counter });
  });
  stats[counter + '_sent']++;
}

function flushUndelivered() {
  const ready = boundSessions();
  if (ready.length === 0) return;
  const waiting = undelivered.splice(0);
  waiting.forEach((item, i) => deliver(ready[i % ready.length], item.pdu, item.counter));
}

function smppTime(date) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}`;
}

function receiptFor(submit, messageId, submittedAt) {
  const text = `id:${messageId} sub:001 dlvrd:001 submit date:${smppTime(submittedAt)} ` +
    `done date:${smppTime(new Date())} stat:DELIVRD err:000 text:`;
  const pdu = {
    source_addr_ton: submit.dest_addr_ton,
    source_addr_npi: submit.dest_addr_npi,
    source_addr: submit.destination_addr,
    dest_addr_ton: submit.source_addr_ton,
    dest_addr_npi: submit.source_addr_npi,
    destination_addr: submit.source_addr,
    esm_class: 0x04,
    data_coding: 0x01,
    short_message: Buffer.from(text, 'ascii'),
  };
  if (options.receipt_tlvs) {
    pdu.receipted_message_id = messageId;
    pdu.message_state = 2;
  }
  return pdu;
}

function onBind(session, pdu) {
  if (pdu.system_id !== options.systemId) {
    stats.bind_failures++;
    session.send(pdu.response({ command_status: smpp.ESME_RINVSYSID }));
    return;
  }
  if (pdu.password !== options.password) {
    stats.bind_failures++;
    session.send(pdu.response({ command_status: smpp.ESME_RINVPASWD }));
    return;
  }
  stats.binds++;
  session.recadoBound = true;
  session.send(pdu.response({ system_id: 'recado-smsc' }));
  flushUndelivered();
}

function onSubmit(session, pdu) {
  stats.submits++;
  if (!session.recadoBound) {
    session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
    return;
  }
  const rule = options.reject.find((r) => r.count > 0);
  if (rule) {
    rule.count--;
    if (options.record) records[records.length - 1].answered_status = rule.status;
    session.send(pdu.response({ command_status: rule.status }));
    return;
  }
  const messageId = (nextMessageId++).toString(16).toUpperCase();
  if (options.record) records[records.length - 1].message_id = messageId;
  const submittedAt = new Date();
  const answer = () => {
    session.send(pdu.response({ message_id: messageId }));
    if (options.receipts && (pdu.registered_delivery & 0x03)) {
      setTimeout(() => deliver(session, receiptFor(pdu, messageId, submittedAt), 'receipts'),
        options.receipt_delay_ms);
    }
  };
  if (options.respond_delay_ms > 0) setTimeout(answer, options.respond_delay_ms);
  else answer();
}

const server = smpp.createServer((session) => {
  session.recadoId = nextSessionId++;
  session.recadoBound = false;
  session.recadoUnacked = new Map();
  sessions.add(session);
  stats.sessions++;
  session.on('pdu', (pdu) => {
    record(session, pdu);
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver':
        onBind(session, pdu);
        break;
      case 'submit_sm':
        onSubmit(session, pdu);
        break;
      case 'enquire_link':
        session.send(pdu.response());
        break;
      case 'unbind':
        session.recadoBound = false;
        session.send(pdu.response(), () => session.close());
        break;
      default:
        if (!pdu.isResponse()) session.send(pdu.response({ command_status: smpp.ESME_RINVCMDID }));
    }
  });
  const forget = () => {
    if (!sessions.delete(session)) return;
    session.recadoBound = false;
    for (const item of session.recadoUnacked.values()) undelivered.push(item);
    session.recadoUnacked.clear();
  };
  session.on('close', forget);
  session.on('error', forget);
});

function sendMo(body) {
  const ready = boundSessions();
  if (ready.length === 0) return false;
  const base = {
    source_addr_ton: body.from.startsWith('+') ? 1 : 5,
    source_addr_npi: body.from.startsWith('+') ? 1 : 0,
    source_addr: body.from.replace(/^\+/, ''),
    dest_addr_ton: body.to.startsWith('+') ? 1 : 0,
    dest_addr_npi: 1,
    destination_addr: body.to.replace(/^\+/, ''),
    data_coding: body.data_coding || 0,
  };
  const parts = body.parts || [body.text];
  const reference = body.reference !== undefined ? body.reference : (moReference = (moReference + 1) % 256);
  parts.forEach((text, i) => {
    const pdu = Object.assign({}, base);
    if (parts.length > 1) {
      pdu.short_message = { udh: Buffer.from([0x05, 0x00, 0x03, reference, parts.length, i + 1]), message: text };
    } else {
      pdu.short_message = text;
    }
    deliver(ready[0], pdu, 'mo');
  });
  return true;
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => {
      try { resolve(data ? JSON.parse(data) : {}); } catch (e) { reject(e); }
    });
  });
}

const control = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const reply = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  try {
    if (req.method === 'GET' && url.pathname === '/pdus') {
      const since = Number(url.searchParams.get('since') || 0);
      return reply(200, { pdus: records.slice(since), next: records.length });
    }
    if (req.method === 'GET' && url.pathname === '/stats') {
      return reply(200, Object.assign({ bound: boundSessions().length, undelivered: undelivered.length }, stats));
    }
    const body = req.method === 'POST' ? await readJson(req) : {};
    if (req.method === 'POST' && url.pathname === '/mo') {
      return sendMo(body) ? reply(200, { sent: true }) : reply(409, { sent: false, error: 'no bound session' });
    }
    if (req.method === 'POST' && url.pathname === '/drop') {
      const all = [...sessions];
      all.forEach((s) => { s.recadoBound = false; s.socket.destroy(); });
      stats.drops += all.length;
      return reply(200, { dropped: all.length });
    }
    if (req.method === 'POST' && url.pathname === '/config') {
      for (const key of ['receipts', 'receipt_delay_ms', 'receipt_tlvs', 'record', 'respond_delay_ms', 'reject']) {
        if (key in body) options[key] = body[key];
      }
      return reply(200, options);
    }
    if (req.method === 'POST' && url.pathname === '/reset') {
      records.length = 0;
      return reply(200, { reset: true });
    }
    reply(404, { error: 'not found' });
  } catch (e) {
    reply(400, { error: String(e) });
  }
});

server.listen(0, '127.0.0.1', () => {
  control.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({
      ready: true, smpp_port: server.address().port, control_port: control.address().port,
    }) + '\n');
  });
});

// The test owns this process: stop with it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
