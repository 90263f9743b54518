import ArgumentParser
import Journal
import JournalPostgres

extension JournalCommand {
    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a PostgreSQL role read and append to the journal, and nothing more.",
            discussion: """
                Run as the role that owns the journal's schema (the first to open the database). ROLE must exist \
                (CREATE ROLE … LOGIN). It may then read the log and append to it; the database refuses it any change \
                or removal of an event, any move of the head but an append, and any ALTER or DROP of the schema. \
                Run tpj serve and the other commands as ROLE.
                """)

        @Argument(help: "The PostgreSQL role to grant access to.")
        var role: String

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard DatabaseOptions.isPostgres(database.path) else {
                throw ValidationError("tpj grant is for a journal in PostgreSQL: give --db postgres://owner@host/database.")
            }
            guard !role.isEmpty else { throw ValidationError("ROLE must not be empty.") }
        }

        func run() async throws {
            try await runReportingErrors(json: output.json) {
                try await PostgresJournal.withJournal(url: database.path) { journal in try await journal.grantAccess(to: role) }
                let location = PostgresJournal.redacted(database.path)
                if output.json {
                    Output.json(["role": .string(role), "journal": .string(location), "granted": ["read", "append"]])
                } else {
                    Output.line("Role \(role) may read and append to the journal at \(location); the database refuses it every other change.")
                }
            }
        }
    }
}
