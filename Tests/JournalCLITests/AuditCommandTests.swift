import Foundation
import Journal
import JournalTesting
import Testing

/// `tpj keys`, `tpj seal`, `tpj verify --head` and `tpj evidence`, checked from outside: the evidence
/// by `tools/verify-evidence` (Python, no tpj) and both files against their JSON Schemas.
@Suite struct AuditCommandTests {
    static let verifier = TestSupport.repositoryRoot.appendingPathComponent("tools/verify-evidence").path

    func python(_ script: String, in workspace: CLIWorkspace) throws -> TestSupport.ProcessResult {
        try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", script], in: workspace.directory)
    }

    func verifyEvidence(_ arguments: String..., in workspace: CLIWorkspace) throws -> TestSupport.ProcessResult {
        try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", Self.verifier] + arguments, in: workspace.directory)
    }

    @Test func evidenceVerifiesOfflineAndEveryChangedByteIsCaughtAndNamed() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "6", "--years", "1", "--seed", "5").status == 0)
        let keys = try JSONParser.parse(try workspace.tpj("keys", "show", "--json").stdout)
        let kept = try workspace.tpj("keys", "create")
        #expect(kept.stdout.hasPrefix("The journal has its signing key already; it is kept.") && kept.stdout.contains(keys["keyFingerprint"]?.stringValue ?? "?"))
        let fingerprint = try #require(keys["keyFingerprint"]?.stringValue)
        let sealed = try workspace.tpj("seal", "--out", "head.json")
        #expect(sealed.status == 0 && sealed.stdout.contains("Signed tree head"), "\(sealed.stderr)")
        #expect(try workspace.tpj("seal", "--out", "head.json").stderr.contains("never overwritten"))
        let evidence = try workspace.tpj("evidence", "C-100002", "--out", "evidence.json")
        #expect(evidence.status == 0, "\(evidence.stderr)")
        guard case .array(let history) = try JSONParser.parse(try workspace.tpj("history", "C-100002", "--json").stdout) else { throw CancellationError() }
        let events = history.count

        // The verifier accepts it, with the journal's published key, and says what it proves;
        let verified = try verifyEvidence("evidence.json", "--key", fingerprint, in: workspace)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.hasPrefix("OK: \(events) events of customer C-100002") && !verified.stdout.contains("not compared"))
        #expect(try verifyEvidence("evidence.json", in: workspace).stdout.contains("The key was not compared with the journal's published one"))
        #expect(try verifyEvidence("evidence.json", "--key", String(repeating: "0", count: 32), in: workspace).stderr.contains("not by the published key"))
        // both files follow their schemas;
        let schemas = try python("""
            import json, jsonschema, pathlib
            from referencing import Registry, Resource
            root = pathlib.Path("\(TestSupport.repositoryRoot.appendingPathComponent("Schemas").path)")
            head = json.loads((root / "tree-head.schema.json").read_text()); evidence = json.loads((root / "evidence.schema.json").read_text())
            registry = Registry().with_resources([(s["$id"], Resource.from_contents(s)) for s in (head, evidence)])
            for schema, name in ((head, "head.json"), (evidence, "evidence.json")):
                jsonschema.Draft202012Validator(schema, registry=registry, format_checker=jsonschema.FormatChecker()).validate(json.load(open(name)))
            print("valid")
            """, in: workspace)
        #expect(schemas.stdout == "valid\n", "\(schemas.stderr)")
        // and any byte changed, anywhere, fails it — naming the part that broke.
        let flips = try python("""
            import importlib.machinery, importlib.util, io, contextlib, collections, json
            loader = importlib.machinery.SourceFileLoader("verify_evidence", "\(Self.verifier)")
            module = importlib.util.module_from_spec(importlib.util.spec_from_loader("verify_evidence", loader)); loader.exec_module(module)
            original = open("evidence.json", "rb").read()
            offsets = sorted(set(range(0, len(original) - 1, max(1, len(original) // 400))) | {original.index(b'"envelope":"') + 20, original.index(b'"inclusionProof":["') + 25, original.index(b'"rootHash":"') + 15, original.index(b'"views":') + 30})
            kinds = collections.Counter()
            for offset in offsets:
                changed = bytearray(original); changed[offset] ^= 0x01
                open("changed.json", "wb").write(changed)
                errors = io.StringIO()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
                    status = module.main(["changed.json"])
                message = errors.getvalue()
                if status != 1 or not message.startswith("FAILED: "):
                    print("ACCEPTED", offset, repr(message)); continue
                for kind in ("not JSON", "envelope does not hash", "inclusion proof", "tree head's signature", "evidence's signature", "shown"):
                    if kind in message: kinds[kind] += 1
            print(len(offsets), json.dumps(kinds))
            """, in: workspace)
        #expect(flips.status == 0 && !flips.stdout.contains("ACCEPTED"), "\(flips.stdout)\(flips.stderr)")
        for kind in ["not JSON", "envelope does not hash", "inclusion proof", "tree head's signature", "evidence's signature"] {
            #expect(flips.stdout.contains("\"\(kind)\": "), "no change was reported as \(kind): \(flips.stdout)")
        }
    }

    @Test func theSigningKeyIsShownOnlyOnceMadeAndMadeOnce() throws {
        let workspace = CLIWorkspace()
        // A journal begun by an append has no signing key until one is made.
        #expect(try workspace.tpj("append", "--customer", "C-1", input: callsNDJSON(first: 1, count: 1)).status == 0)
        let none = try workspace.tpj("keys", "show")
        #expect(none.status == 64 && none.stderr.contains("no signing key yet: make it with `tpj keys create`"))
        let made = try workspace.tpj("keys", "create")
        #expect(made.status == 0 && made.stdout.hasPrefix("Made the journal's signing key."))
        let fingerprint = try #require(try JSONParser.parse(try workspace.tpj("keys", "show", "--json").stdout)["keyFingerprint"]?.stringValue)
        #expect(try workspace.tpj("keys", "create").stdout.contains(fingerprint))
    }

    @Test func evidenceOfAnErasedCustomerStillVerifiesAndShowsErased() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "5", "--years", "1", "--seed", "6").status == 0)
        #expect(try workspace.tpj("evidence", "C-100003", "--out", "before.json").status == 0)
        #expect(try workspace.tpj("erase", "--customer", "C-100003", "--reason", "DSR-12").status == 0)
        #expect(try workspace.tpj("evidence", "C-100003", "--out", "after.json").status == 0)
        let before = try verifyEvidence("before.json", in: workspace)
        let after = try verifyEvidence("after.json", in: workspace)
        #expect(before.status == 0 && before.stdout.contains("; 0 personal values read [erased]"), "\(before.stdout)\(before.stderr)")
        #expect(after.status == 0 && !after.stdout.contains("; 0 personal values") && after.stdout.contains("personal values read [erased]"), "\(after.stdout)\(after.stderr)")
        let text = try String(contentsOf: workspace.directory.appendingPathComponent("after.json"), encoding: .utf8)
        #expect(text.contains("erasure.performed") && text.contains("[erased]"))
    }

    @Test func evidenceKnownAtADateUsesTheHeadSignedByThen() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "4", "--years", "1", "--seed", "7").status == 0)
        // No head signed by 2020: nothing to prove then.
        let early = try workspace.tpj("evidence", "C-100001", "--known-at", "2020-01-01T00:00:00Z", "--out", "early.json")
        #expect(early.status != 0 && early.stderr.contains("no tree head was signed by 2020-01-01"))
        let first = try JSONParser.parse(try workspace.tpj("seal", "--json", "--out", "h1.json").stdout)
        let note = #"{"eventId":"\#(TestEvents.id(77))","type":"note.added","occurredAt":"2026-03-02T08:15:00Z","payload":{"text":"after the first head"}}"#
        #expect(try workspace.tpj("append", "--customer", "C-100001", input: note + "\n").status == 0)
        let second = try JSONParser.parse(try workspace.tpj("seal", "--json", "--out", "h2.json").stdout)
        #expect(second["treeSize"]?.number == (first["treeSize"]?.number ?? 0) + 1)
        let signedAt = try #require(first["signedAt"]?.stringValue)
        #expect(try workspace.tpj("evidence", "C-100001", "--known-at", signedAt, "--out", "then.json").status == 0)
        #expect(try workspace.tpj("evidence", "C-100001", "--out", "now.json").status == 0)
        let then = try JSONParser.parse(Array(try Data(contentsOf: workspace.directory.appendingPathComponent("then.json"))))
        let now = try JSONParser.parse(Array(try Data(contentsOf: workspace.directory.appendingPathComponent("now.json"))))
        #expect(then["treeHead"]?["treeSize"] == first["treeSize"] && now["treeHead"]?["treeSize"] == second["treeSize"])
        guard case .array(let eventsNow)? = now["events"], case .array(let eventsThen)? = then["events"] else { throw CancellationError() }
        #expect(eventsNow.count == eventsThen.count + 1)
        #expect(try verifyEvidence("then.json", in: workspace).stdout.contains("recorded by \(signedAt)"))

        // The later head extends the earlier one: a consistency proof anyone can check.
        let proved = try workspace.tpj("prove", "--from", "h1.json", "--to", "h2.json", "--out", "consistency.json")
        #expect(proved.status == 0 && proved.stdout.contains("extends the head of"), "\(proved.stderr)")
        let checked = try verifyEvidence("consistency.json", in: workspace)
        #expect(checked.status == 0 && checked.stdout.hasPrefix("OK: the journal's log of"), "\(checked.stdout)\(checked.stderr)")
        #expect(try workspace.tpj("prove", "--from", "h2.json", "--to", "h1.json", "--out", "x.json").stderr.contains("give the earlier head as --from"))
        var proof = try String(contentsOf: workspace.directory.appendingPathComponent("consistency.json"), encoding: .utf8)
        let node = try #require(proof.firstRange(of: #/"proof":\["[0-9a-f]/#))
        proof.replaceSubrange(proof.index(before: node.upperBound)..<node.upperBound, with: proof[proof.index(before: node.upperBound)] == "0" ? "1" : "0")
        _ = try workspace.write("bent.json", proof)
        #expect(try verifyEvidence("bent.json", in: workspace).stderr.contains("consistency proof does not lead"))
    }

    @Test func verifyHeadChecksTheJournalAgainstAHeadKeptElsewhere() throws {
        let workspace = CLIWorkspace()
        #expect(try workspace.tpj("demo", "--customers", "4", "--years", "1", "--seed", "8").status == 0)
        #expect(try workspace.tpj("seal", "--out", "head.json").status == 0)
        let ok = try workspace.tpj("verify", "--head", "head.json")
        #expect(ok.status == 0 && ok.stdout.hasPrefix("OK: the journal holds exactly the"), "\(ok.stderr)")
        // A head whose root was changed fails on its signature, naming it;
        var head = try String(contentsOf: workspace.directory.appendingPathComponent("head.json"), encoding: .utf8)
        let root = try #require(head.firstRange(of: #/"rootHash":"[0-9a-f]/#))
        head.replaceSubrange(head.index(before: root.upperBound)..<root.upperBound, with: head[head.index(before: root.upperBound)] == "0" ? "1" : "0")
        _ = try workspace.write("forged.json", head)
        let forged = try workspace.tpj("verify", "--head", "forged.json", "--json")
        #expect(forged.status == 1)
        let report = try JSONParser.parse(forged.stdout)
        #expect(report["matches"] == false && report["failure"]?.stringValue?.contains("signature") == true)
        // unreadable or wrong input is refused with what is wrong.
        #expect(try workspace.tpj("verify", "--head", "missing.json").stderr.contains("cannot read the tree head missing.json"))
        _ = try workspace.write("other.json", #"{"type": "something"}"#)
        #expect(try workspace.tpj("verify", "--head", "other.json").stderr.contains("no tree head"))
        #expect(try workspace.tpj("verify", "--head", "head.json", "--from", "3").stderr.contains("take no --from"))
    }
}
