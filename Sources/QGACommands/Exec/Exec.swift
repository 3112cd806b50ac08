import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga exec TARGET COMMAND [NAME=VALUE | NAME:=JSON]... [--args JSON]`, and
/// `qga exec --describe COMMAND`.
struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run any agent command and print its result.",
        usage: """
            qga exec [<options>] <target> <command> [<argument> ...]
            qga exec --describe <command> [--json]
            """,
        discussion: """
            Arguments are NAME=VALUE or NAME:=JSON, or a whole object with --args. For a \
            command the catalogue knows (see 'qga commands'), NAME=VALUE is converted to the \
            argument's type (handle=1000 is a number, capture-output=true a boolean; an array \
            argument such as guest-exec's arg takes one element per NAME=VALUE), JSON is \
            checked against it, and an unknown, missing or mistyped argument is a usage error \
            (exit 64) before anything is sent. A command the catalogue does not know is sent \
            as typed, with a warning; --no-check sends any command as typed (NAME=VALUE as a \
            string). The command may also be a full request, as virsh takes it: qga exec \
            TARGET '{"execute":"guest-info"}' (checked too).

            --describe prints what a command takes and returns, since when it exists, where \
            it runs and whether it replies; no target is needed.

            Examples:
              qga exec /run/vm1/qga.sock guest-info
              qga exec unix:/run/vm1/qga.sock guest-file-open path=/etc/hostname
              qga exec /run/vm1/qga.sock guest-file-read handle=1000 count=65536
              qga exec /run/vm1/qga.sock guest-exec path=/bin/ls arg=-l arg=/ capture-output=true
              qga exec --describe guest-exec
            """)

    @OptionGroup var agent: AgentOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: targetHelp, transform: Target.argument)
    var target: Target?

    @Argument(
        help: ArgumentHelp("The command name (guest-info), or a whole JSON request.", valueName: "command"),
        completion: Completion.commandNames)
    var command: String?

    @Argument(
        help: ArgumentHelp("Command arguments: NAME=VALUE (converted to the argument's type) or NAME:=JSON.", valueName: "argument"),
        completion: Completion.arguments)
    var arguments: [String] = []

    @Option(help: ArgumentHelp("Command arguments as one JSON object.", valueName: "json"))
    var args: String?

    @Flag(name: .customLong("no-check"), help: "Send the arguments as typed (NAME=VALUE as a string), without checking them against the catalogue.")
    var noCheck = false

    @Option(
        help: ArgumentHelp("Print what a command takes and returns, and exit (no target needed).", valueName: "command"),
        completion: Completion.commandNames)
    var describe: String?

    @Flag(help: "With --describe: print the description as JSON (on one line with --compact).")
    var json = false

    func validate() throws {
        if let describe {
            guard target == nil, command == nil, args == nil, !noCheck else {
                throw ValidationError("--describe takes a command name only, no target")
            }
            guard !output.raw else { throw ValidationError("--raw does not go with --describe") }
            guard Catalogue.info(describe) != nil else {
                throw ValidationError("'\(describe)' is not in the catalogue (QEMU \(Catalogue.schemaVersion)'s schema); 'qga commands' lists it")
            }
            return
        }
        guard target != nil else { throw ValidationError("Missing expected argument '<target>'") }
        guard command != nil else { throw ValidationError("Missing expected argument '<command>'") }
        if json { throw ValidationError("--json goes with --describe (exec prints JSON anyway)") }
        _ = try request()
    }

    func run() throws {
        if let describe, let info = Catalogue.info(describe) {
            if json {
                try Console.print(Describe.json(info), with: output.printer)
            } else {
                for line in Describe.text(info) { try Console.line(line) }
            }
            return
        }
        guard let target else { throw ValidationError("Missing expected argument '<target>'") }
        let request = try request()
        if !noCheck && Catalogue.info(request.execute) == nil {
            Console.error("qga: warning: \(request.execute) is not in the catalogue (QEMU \(Catalogue.schemaVersion)'s schema); sending it unchecked")
        }
        let reply = try agent.connect(target).execute(request, options: agent.callOptions)
        try output.print(reply)
        if let reply, case .failure(let error, _) = reply.incoming {
            throw ClientError(.agentError(error), error.description)
        }
    }

    /// The request the command line describes; usage errors are `ValidationError`s.
    func request() throws -> Request {
        do {
            return try RequestBuilder.build(command: command ?? "", arguments: arguments, argsJSON: args, check: !noCheck)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
