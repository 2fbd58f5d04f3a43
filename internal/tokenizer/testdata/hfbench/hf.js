// Hugging Face tokenizers (Rust, through the npm package "tokenizers") on
// the files TestExportHF writes.
//
//   node hf.js DIR RUNS [check]  encode DIR/text.txt with each DIR/NAME.json:
//                                one warm-up call, then RUNS calls, one
//                                string each; prints "hf NAME wallMB/s cpuMB/s"
//                                (check: first compare the ids with ours)
//   node hf.js summary FILE      medians of the "who NAME wall cpu" lines
const fs = require('fs')

const names = ['spm-llama', 'bpe-gpt2', 'bpe-deepseek', 'wordpiece-bert', 'unigram-llama']

// complete adds the fields that the Rust deserializer requires and our
// test converters leave out (they take the defaults).
function complete(j) {
  Object.assign(j, { version: '1.0', truncation: null, padding: null })
  for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) j[k] = j[k] ?? null
  j.added_tokens = (j.added_tokens || []).map((t) => ({
    id: t.id, content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: !t.special, special: t.special,
  }))
  const fix = (c) => {
    if (!c) return
    if (c.type === 'ByteLevel') Object.assign(c, { trim_offsets: true, add_prefix_space: c.add_prefix_space ?? false, use_regex: c.use_regex ?? true })
    if (c.type === 'Split') c.invert = false
    if (c.type === 'TemplateProcessing') {
      c.pair = c.single
      c.special_tokens = {}
      for (const item of c.single) {
        const id = item.SpecialToken?.id
        if (id) c.special_tokens[id] = { id, ids: [j.model.vocab[id]], tokens: [id] }
      }
    }
    for (const list of [c.pretokenizers, c.normalizers]) if (list) list.forEach(fix)
  }
  for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) fix(j[k])
  const m = j.model
  if (m.type === 'BPE') {
    Object.assign(m, {
      dropout: null, unk_token: m.unk_token ?? null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: m.fuse_unk ?? false, byte_fallback: m.byte_fallback ?? false, ignore_merges: false,
    })
  }
  return j
}

async function bench(dir, runs, check) {
  const { Tokenizer } = require('tokenizers')
  const text = fs.readFileSync(`${dir}/text.txt`, 'utf8')
  const mb = Buffer.byteLength(text) / 1e6
  const opts = { addSpecialTokens: false }
  for (const name of names) {
    const tok = Tokenizer.fromString(JSON.stringify(complete(JSON.parse(fs.readFileSync(`${dir}/${name}.json`, 'utf8')))))
    const ids = (await tok.encode(text, null, opts)).getIds()
    if (check) {
      const ours = JSON.parse(fs.readFileSync(`${dir}/${name}.ids.json`, 'utf8'))
      const at = ids.findIndex((id, i) => id !== ours[i])
      if (at >= 0 || ids.length !== ours.length) {
        console.error(`${name}: ids differ (hf ${ids.length}, ours ${ours.length}, first at ${at})`)
        process.exitCode = 1
      } else console.error(`${name}: ${ids.length} ids, identical`)
    }
    const wall0 = process.hrtime.bigint()
    const cpu0 = process.cpuUsage()
    for (let r = 0; r < runs; r++) (await tok.encode(text, null, opts)).getIds()
    const wall = Number(process.hrtime.bigint() - wall0) / 1e9
    const cpu = process.cpuUsage(cpu0)
    console.log(`hf ${name} ${((runs * mb) / wall).toFixed(2)} ${((runs * mb) / ((cpu.user + cpu.system) / 1e6)).toFixed(2)}`)
  }
}

function summary(file) {
  const by = {}
  for (const line of fs.readFileSync(file, 'utf8').trim().split('\n')) {
    const [who, name, wall, cpu] = line.split(' ')
    ;((by[name] ??= {})[who] ??= []).push([+wall, +cpu])
  }
  const median = (xs) => { xs = [...xs].sort((a, b) => a - b); const h = xs.length >> 1; return xs.length % 2 ? xs[h] : (xs[h - 1] + xs[h]) / 2 }
  console.log('| tokenizer | ours MB/s (wall) | HF MB/s (wall) | ours MB/s (CPU) | HF MB/s (CPU) | ratio (CPU) | rounds |')
  console.log('|---|---|---|---|---|---|---|')
  for (const name of names) {
    const o = by[name]?.ours ?? [], h = by[name]?.hf ?? []
    const f = (xs, i) => median(xs.map((x) => x[i]))
    console.log(`| ${name} | ${f(o, 0).toFixed(1)} | ${f(h, 0).toFixed(1)} | ${f(o, 1).toFixed(1)} | ${f(h, 1).toFixed(1)} | ${(f(o, 1) / f(h, 1)).toFixed(1)}× | ${Math.min(o.length, h.length)} |`)
  }
}

if (process.argv[2] === 'summary') summary(process.argv[3])
else bench(process.argv[2], +(process.argv[3] || 3), process.argv[4] === 'check')
