import Foundation
import Glibc
import QGAProtocol
import QGATestSupport
import Testing

private func request(_ command: String, _ arguments: String) -> String {
    #"{"execute":"\#(command)","arguments":\#(arguments)}"#
}

private let user = FakeGuestUser.name

/// Reading, adding and removing a key: each must refuse a file it may not follow or open.
private let getAddRemove = [
    request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#),
    request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["k1"]}"#),
    request("guest-ssh-remove-authorized-keys", #"{"username":"\#(user)","keys":["k1"]}"#),
]
private let runsAsRoot = getuid() == 0

/// Runs `steps` through qemu-ga and through qgad, each on a fresh guest user that `prepare`
/// sets up, and expects every step's outcome (reply and files) to be the same.
private func expectOutcomesAsQemuGA(_ steps: [String], prepare: (FakeGuestUser) throws -> Void = { _ in }) throws {
    var outcomes: [AgentKind: [String]] = [:]
    for kind in AgentKind.allCases {
        let guest = try FakeGuestUser()
        try prepare(guest)
        let agent = try guest.agent(kind)
        let client = try agent.connect()
        outcomes[kind] = steps.map { guest.outcome(of: $0, client) }
    }
    for (index, step) in steps.enumerated() {
        #expect(outcomes[.qgad]?[index] == outcomes[.qemuGA]?[index], "\(step)")
    }
}

/// Users and authorized keys, qgad beside qemu-ga, with fake users in private mount
/// namespaces (root only: bind mounts and files owned by another uid).
@Suite(.enabled(if: runsAsRoot, "needs root for private mount namespaces"))
struct UserAccountTests {
    // MARK: qemu-ga's behaviour, compared request by request

    /// The requests libvirt sends for `virsh set-user-sshkeys` (the key file split on
    /// newlines, so a trailing empty key), `--reset`, `--remove` and `get-user-sshkeys`,
    /// plus keys qemu-ga refuses; replies and the resulting file must match qemu-ga's.
    @Test func authorizedKeysAsQemuGAKeepsThem() throws {
        let steps = [
            request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["ssh-ed25519 AAAA k4",""]}"#),
            request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#),
            request("guest-ssh-remove-authorized-keys", #"{"username":"\#(user)","keys":["ssh-rsa AAAA k1","",""]}"#),
            request("guest-ssh-add-authorized-keys", ##"{"username":"\##(user)","keys":["#comment"]}"##),
            request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["a\nb"]}"#),
            request("guest-ssh-remove-authorized-keys", ##"{"username":"\##(user)","keys":["#x"]}"##),
            request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#),
            request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["k5","k6",""],"reset":true}"#),
            request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#),
            request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":[],"reset":true}"#),
            request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#),
        ]
        try expectOutcomesAsQemuGA(steps) { guest in
            try guest.makeSSH(keys: "ssh-rsa AAAA k1\n# a comment\n  ssh-ed25519 AAAA k2  \n\nssh-ed25519 AAAA k3\n")
        }
    }

    /// A missing ~/.ssh (created 0700 by add), a missing file, an unknown user, and a
    /// password for an unknown user: qemu-ga's replies and files.
    @Test func missingFilesAndUnknownUsersAsQemuGA() throws {
        let steps = [
            request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#),
            request("guest-ssh-remove-authorized-keys", #"{"username":"\#(user)","keys":["k"]}"#),
            request("guest-ssh-get-authorized-keys", #"{"username":"nosuchuser"}"#),
            request("guest-ssh-get-authorized-keys", #"{"username":"0"}"#),
            request("guest-ssh-get-authorized-keys", #"{"username":""}"#),
            request("guest-ssh-add-authorized-keys", #"{"username":"nosuchuser","keys":[""]}"#),
            request("guest-ssh-remove-authorized-keys", #"{"username":"nosuchuser","keys":[]}"#),
            request("guest-set-user-password", #"{"username":"nosuchuser","password":"c2VjcmV0","crypted":false}"#),
            request("guest-set-user-password", #"{"username":"no:such","password":"c2VjcmV0","crypted":false}"#),
            request("guest-set-user-password", #"{"username":"nosuchuser","password":"YQpi","crypted":false}"#),
            request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["k1"]}"#),
            request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#),
        ]
        try expectOutcomesAsQemuGA(steps)
    }

    // MARK: root never goes through what the user controls

    /// authorized_keys, or ~/.ssh itself, as a link to a root-only file: nothing is read
    /// from it or written through it, and its owner and mode stay.
    @Test func symbolicLinksAreNotFollowed() throws {
        let guest = try FakeGuestUser()
        try guest.makeSSH()
        symlink(guest.secret, guest.keys)
        let agent = try guest.agent(.qgad)
        let client = try agent.connect()
        for step in getAddRemove {
            let desc = client.call(step)?["error"]?["desc"]?.string
            #expect(desc == "failed to read '\(guest.keys)': 'authorized_keys' is a symbolic link, not followed", "\(step)")
            #expect(guest.secretIsUntouched())
        }
        // A reset does not read: the link itself is replaced by the user's own file.
        #expect(client.call(request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["k1"],"reset":true}"#))?["return"] == .object([:]))
        #expect(guest.secretIsUntouched())
        #expect(guest.snapshot().hasPrefix(".ssh mode 40755 owner 4242:4242; keys mode 100600 owner 4242:4242 [107, 49]"))

        // ~/.ssh as a link to a root-only directory.
        try FileManager.default.removeItem(atPath: guest.ssh)
        let rootDir = guest.directory.path + "/rootssh"
        try FileManager.default.createDirectory(atPath: rootDir, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: rootDir + "/authorized_keys", withDestinationPath: guest.secret)
        symlink(rootDir, guest.ssh)
        let desc = client.call(request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["k2"],"reset":true}"#))?["error"]?["desc"]?.string
        #expect(desc == "failed to create directory '\(guest.ssh)': '.ssh' is a symbolic link, not followed")
        #expect(client.call(request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#))?["error"] != nil)
        #expect(guest.secretIsUntouched())
        #expect((try? FileManager.default.contentsOfDirectory(atPath: rootDir)) == ["authorized_keys"])
    }

    /// The temporary name qgad used to write (`authorized_keys.qgad-tmp`) planted as a link
    /// to a root-only file: the write goes elsewhere and leaves nothing behind.
    @Test func temporaryFileIsUniqueAndNotFollowed() throws {
        let guest = try FakeGuestUser()
        try guest.makeSSH(keys: "k0\n")
        symlink(guest.secret, guest.keys + ".qgad-tmp")
        let agent = try guest.agent(.qgad)
        let client = try agent.connect()
        #expect(client.call(request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["k1"]}"#))?["return"] == .object([:]))
        #expect(guest.secretIsUntouched())
        #expect(FileManager.default.contents(atPath: guest.keys) == Data("k0\n\nk1".utf8))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: guest.ssh).sorted()) == ["authorized_keys", "authorized_keys.qgad-tmp"])
    }

    /// A hard link to a root-only file is not the user's to read.
    @Test func hardLinkToAnotherUsersFileIsRefused() throws {
        let guest = try FakeGuestUser()
        try guest.makeSSH()
        #expect(link(guest.secret, guest.keys) == 0)
        let agent = try guest.agent(.qgad)
        let client = try agent.connect()
        let desc = client.call(request("guest-ssh-add-authorized-keys", #"{"username":"\#(user)","keys":["k1"]}"#))?["error"]?["desc"]?.string
        #expect(desc == "failed to read '\(guest.keys)': 'authorized_keys' has other hard links and belongs to another user")
        #expect(guest.secretIsUntouched())
    }

    /// A FIFO or a device as authorized_keys: an error at once, and the agent still serves.
    @Test func fifoOrDeviceIsRefusedWithoutBlocking() throws {
        for makeNode in [{ (path: String) in mkfifo(path, 0o600) }, { (path: String) in mknod(path, S_IFCHR | 0o600, (1 << 8) | 3) }] {
            let guest = try FakeGuestUser()
            try guest.makeSSH()
            #expect(makeNode(guest.keys) == 0)
            let agent = try guest.agent(.qgad)
            let client = try agent.connect()
            for step in getAddRemove {
                let desc = client.call(step, timeout: 5)?["error"]?["desc"]?.string
                #expect(desc == "failed to read '\(guest.keys)': 'authorized_keys' is not a regular file", "\(step)")
            }
            #expect(client.call(#"{"execute":"guest-ping"}"#)?["return"] == .object([:]))
        }
    }

    // MARK: user lookup

    /// qgad asks the guest's `getent` (so NSS modules resolve users, as for qemu-ga) and
    /// falls back to /etc/passwd when getent answers nothing useful or not in time.
    @Test func usersComeFromGetentThenPasswd() throws {
        let guest = try FakeGuestUser()
        let bin = guest.directory.path + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: false)
        func fakeGetent(_ body: String) throws {
            // A new file, opened close-on-exec: a descriptor open for writing that leaks into
            // a child another test starts meanwhile would make every exec of it ETXTBSY.
            let path = bin + "/getent"
            unlink(path)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
            try #require(fd >= 0)
            defer { close(fd) }
            let script = Array("#!/bin/sh\n\(body)\n".utf8)
            try #require(write(fd, script, script.count) == script.count)
        }
        let environment = ["PATH": bin + ":/usr/sbin:/usr/bin:/sbin:/bin"]
        let get = { (name: String) in request("guest-ssh-get-authorized-keys", #"{"username":"\#(name)"}"#) }

        // A user only the name service knows (as from sss or ldap).
        try fakeGetent(#"[ "$2" = ldapuser ] && echo "ldapuser:*:5000:5000::/no/ldap/home:/bin/sh" && exit 0; exit 2"#)
        do {
            let agent = try guest.agent(.qgad, environment: environment)
            let client = try agent.connect()
            #expect(client.call(get("ldapuser"))?["error"]?["desc"]?.string?.hasPrefix("failed to read '/no/ldap/home/.ssh/authorized_keys'") == true)
            #expect(client.call(get(user))?["error"]?["desc"]?.string?.hasPrefix("failed to read '\(guest.keys)'") == true)
            #expect(client.call(get("nosuchuser"))?["error"]?["desc"]?.string == "failed to lookup user 'nosuchuser': Success")
        }
        // Another user's entry, endless output, or a getent that hangs: /etc/passwd decides.
        for body in ["echo root:x:0:0::/root:/bin/sh", "exec yes \(user):x:0:0::/root:/bin/sh", "exec sleep 60"] {
            try fakeGetent(body)
            let agent = try guest.agent(.qgad, environment: environment)
            let client = try agent.connect()
            let started = Date()
            #expect(client.call(get(user), timeout: 20)?["error"]?["desc"]?.string?.hasPrefix("failed to read '\(guest.keys)'") == true, "\(body)")
            // getent gets 5 s: the serving loop waits that long, and no longer.
            #expect(Date().timeIntervalSince(started) < 8, "\(body)")
        }
    }

    /// The static qgad (`QGA_STATIC_QGAD`, exported by scripts/test) with several
    /// nsswitch.conf: an unknown user gets qemu-ga's error, a known one is found, and the
    /// agent lives (glibc's static getpwnam loaded `systemd` and crashed it).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["QGA_STATIC_QGAD"] != nil, "QGA_STATIC_QGAD is not set: scripts/test sets it to the static qgad"))
    func staticQgadResolvesUsersWithAnyNSSwitch() throws {
        let executable = ProcessInfo.processInfo.environment["QGA_STATIC_QGAD"] ?? ""
        for nsswitch in ["files", "files systemd", "compat", "files sss", "sss files ldap"] {
            let guest = try FakeGuestUser(nsswitch: nsswitch)
            try guest.makeSSH(keys: "k1\n")
            let agent = try guest.agent(.qgad, executable: executable)
            let client = try agent.connect()
            let unknown = client.call(request("guest-ssh-get-authorized-keys", #"{"username":"nosuchuser"}"#))
            #expect(unknown?["error"]?["desc"]?.string == "failed to lookup user 'nosuchuser': Success", "\(nsswitch)")
            let known = client.call(request("guest-ssh-get-authorized-keys", #"{"username":"\#(user)"}"#))
            #expect(known?["return"]?["keys"] == .array(["k1"]), "\(nsswitch)")
            let password = client.call(request("guest-set-user-password", #"{"username":"nosuchuser","password":"c2VjcmV0","crypted":false}"#))
            #expect(password?["error"]?["desc"]?.string == "child process has failed to set user password", "\(nsswitch)")
            var status: Int32 = 0
            #expect(waitpid(agent.pid, &status, WNOHANG) == 0, "\(nsswitch): the agent died, status \(status)")
        }
    }
}
