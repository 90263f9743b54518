import ArgumentParser
import Journal

/// `tpj`: the touchpoint journal's command line.
@main
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tpj",
        abstract: "Touchpoint Journal: an immutable, hash-chained log of every customer touchpoint.",
        discussion: """
            The journal is one SQLite file: ./journal.sqlite, or --db PATH, or the environment variable TPJ_DB. \
            Event schemas are built in; TPJ_SCHEMA_DIR names a directory of extra <type>.v<N>.json schemas.

            Exit codes: 0 success · 1 verification found tampering · 64 usage · 65 invalid input (nothing stored) · \
            66 no journal at the path · 74 storage error · 75 version conflict (re-read and retry).
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Append.self, Import.self, Imports.self, History.self, Timeline.self, Log.self, Verify.self, Stats.self, Types.self,
            Moments.self, Segments.self, Churn.self, Projections.self, Rebuild.self, Projection.self, Query.self, Export.self, Demo.self, Serve.self, Token.self, Erase.self, Retention.self, Copy.self, Grant.self, Keys.self, Seal.self, Prove.self, EvidenceCommand.self, AccessLog.self,
        ]
    )
}
