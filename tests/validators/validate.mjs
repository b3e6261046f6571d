#!/usr/bin/env node
// validate.mjs cdx|spdx|sarif|equiv|vsa FILE
//
// Validates a probity SBOM with the official schema: CycloneDX 1.6 through
// @cyclonedx/cyclonedx-library's JsonStrictValidator (which bundles the official CycloneDX
// schemas and uses ajv), SPDX 2.3 through ajv with the official SPDX 2.3 JSON schema
// (schemas/spdx-2.3.schema.json, source URL in schemas/README.md), SARIF 2.1.0 through ajv's
// draft-04 validator with the official OASIS schema (schemas/sarif-schema-2.1.0.json, source in
// schemas/SARIF-SOURCE.md). A CycloneDX VEX document is validated as `cdx`.
// equiv.json through ajv with probity's own schema (schemas/probity-equiv.schema.json); an
// in-toto Statement with an SLSA VSA v1 predicate through ajv with schemas/in-toto-slsa-vsa-v1.schema.json,
// written from the two specifications.
// Prints "ok" and exits 0 when valid; prints every error and exits 1 otherwise; 2 for bad usage.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const [kind, file] = process.argv.slice(2)
if (!['cdx', 'spdx', 'sarif', 'equiv', 'vsa'].includes(kind) || !file) {
  console.error('usage: validate.mjs cdx|spdx|sarif|equiv|vsa FILE')
  process.exit(2)
}
const text = readFileSync(file, 'utf8')

if (kind === 'equiv' || kind === 'vsa') {
  const { default: Ajv } = await import('ajv')
  const { default: addFormats } = await import('ajv-formats')
  const here = dirname(fileURLToPath(import.meta.url))
  const name = kind === 'equiv' ? 'probity-equiv.schema.json' : 'in-toto-slsa-vsa-v1.schema.json'
  const schema = JSON.parse(readFileSync(join(here, 'schemas', name), 'utf8'))
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats(ajv)
  const validate = ajv.compile(schema)
  if (!validate(JSON.parse(text))) {
    console.error(`${file}: ${kind} validation failed:`)
    console.error(JSON.stringify(validate.errors, null, 2))
    process.exit(1)
  }
} else if (kind === 'cdx') {
  const { Validation, Spec } = await import('@cyclonedx/cyclonedx-library')
  const doc = JSON.parse(text)
  if (doc.specVersion !== '1.6') {
    console.error(`${file}: specVersion is ${doc.specVersion}, expected 1.6`)
    process.exit(1)
  }
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6)
  const errors = await validator.validate(text)
  if (errors !== null) {
    console.error(`${file}: CycloneDX 1.6 validation failed:`)
    console.error(JSON.stringify(errors, null, 2))
    process.exit(1)
  }
} else if (kind === 'sarif') {
  const { default: Ajv04 } = await import('ajv-draft-04')
  const { default: addFormats } = await import('ajv-formats')
  const here = dirname(fileURLToPath(import.meta.url))
  const schema = JSON.parse(readFileSync(join(here, 'schemas', 'sarif-schema-2.1.0.json'), 'utf8'))
  const ajv = new Ajv04({ allErrors: true, strict: false })
  addFormats(ajv)
  const validate = ajv.compile(schema)
  const doc = JSON.parse(text)
  const errors = []
  if (!validate(doc)) errors.push(...validate.errors)
  if (doc.version !== '2.1.0') errors.push({ message: `version is ${doc.version}` })
  // What the schema cannot say: every result's ruleIndex points at its rule.
  for (const run of doc.runs ?? []) {
    const rules = run.tool?.driver?.rules ?? []
    for (const r of run.results ?? []) {
      if (r.ruleIndex !== undefined && rules[r.ruleIndex]?.id !== r.ruleId) {
        errors.push({ message: `result ruleIndex ${r.ruleIndex} does not name rule ${r.ruleId}` })
      }
    }
  }
  if (errors.length) {
    console.error(`${file}: SARIF 2.1.0 validation failed:`)
    console.error(JSON.stringify(errors, null, 2))
    process.exit(1)
  }
} else {
  const { default: Ajv } = await import('ajv')
  const { default: addFormats } = await import('ajv-formats')
  const here = dirname(fileURLToPath(import.meta.url))
  const schema = JSON.parse(readFileSync(join(here, 'schemas', 'spdx-2.3.schema.json'), 'utf8'))
  const ajv = new Ajv({ allErrors: true, strict: false })
  addFormats(ajv)
  const validate = ajv.compile(schema)
  const doc = JSON.parse(text)
  const errors = []
  if (!validate(doc)) errors.push(...validate.errors)
  // What the schema leaves to the specification text: the version, and that every relationship
  // names elements the document defines.
  if (doc.spdxVersion !== 'SPDX-2.3') errors.push({ message: `spdxVersion is ${doc.spdxVersion}` })
  const ids = new Set([doc.SPDXID, ...(doc.packages ?? []).map((p) => p.SPDXID)])
  for (const r of doc.relationships ?? []) {
    for (const id of [r.spdxElementId, r.relatedSpdxElement]) {
      if (!ids.has(id)) errors.push({ message: `relationship names undefined element ${id}` })
    }
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^#]+$/.test(doc.documentNamespace ?? '')) {
    errors.push({ message: `documentNamespace is not an absolute URI without '#': ${doc.documentNamespace}` })
  }
  if (errors.length) {
    console.error(`${file}: SPDX 2.3 validation failed:`)
    console.error(JSON.stringify(errors, null, 2))
    process.exit(1)
  }
}
console.log('ok')
