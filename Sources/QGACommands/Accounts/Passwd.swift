import ArgumentParser
import QGAClient
import QGAProtocol

/// `qga passwd USER TARGET... [--crypted]`: set a guest user's password.
struct Passwd: Query {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Set a guest user's password.",
        discussion: """
            The password is never taken from the command line or the environment. On a \
            terminal it is asked for twice, without echo; otherwise it is the first line of \
            stdin without its line end (printf '%s\\n' "$PW" | qga passwd alice vm1, or < FILE) \
            for scripts. With --crypted the input is a crypt(3) hash \
            ($6$salt$...) that the guest stores as it is, asked for once. The agent sets it \
            with chpasswd; it refuses a user it does not know. Prints nothing on success \
            ({} with --json). USER comes before the targets, which may be several (or --all): \
            the same password is set on each.
            """)
    static let agentCommand = Catalogue.Commands.guestSetUserPassword

    // Before the targets: they take every positional word after it.
    @Argument(help: "The guest user.") var user: String

    @OptionGroup var options: QueryOptions

    @Flag(help: "The input is a crypt(3) hash, not the password itself.") var crypted = false

    func validate() throws {
        guard !user.isEmpty else { throw ValidationError("USER is empty") }
    }

    func agentArguments() throws -> JSONObject? {
        let what = crypted ? "Hash of the password" : "New password"
        let password = try PasswordInput.read(
            prompt: "\(what) for \(user): ", confirmation: crypted ? nil : "Retype it: ")
        return Self.arguments(user: user, password: password, crypted: crypted)
    }

    /// guest-set-user-password's arguments: the password travels base64-encoded.
    static func arguments(user: String, password: [UInt8], crypted: Bool) -> JSONObject {
        ["username": .string(user), "password": .string(Base64.encode(password)), "crypted": .bool(crypted)]
    }

    func human(_ value: JSONValue, label: String) throws(ClientError) -> HumanView { [] }
}
