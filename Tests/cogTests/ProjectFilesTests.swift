import Foundation
import OCI
import TestSupport
import Testing

/// A project folder holding every kind of file a user or a tool can leave in it, built through the `cog` binary:
/// the image, unpacked by umoci, holds every name byte for byte.
@Suite(.serialized) struct ProjectFilesTests {
    static var cog: String { PipelineTests.cog }

    /// Makes the awkward files with system calls (names that are not UTF-8 cannot go through `String` paths).
    static let makeAwkwardFiles = """
        import os, socket, sys
        os.chdir(sys.argv[1])
        def write(name, data):
            with open(name, "wb") as f: f.write(data)
        write(b"latin-\\xe9.txt", b"not UTF-8\\n")              # a name that is not UTF-8
        write("cafe\\u0301.txt".encode(), b"NFD\\n")            # a name in NFD, as macOS writes it
        long_dir = "long-" + "d" * 200
        os.makedirs(long_dir + "/" + "n" * 200)                  # a path over 255 bytes
        write(long_dir + "/" + "n" * 200 + "/" + "f" * 120 + ".bin", bytes(range(256)))
        os.symlink("/usr/bin/python3", "absolute-link")
        os.symlink("helper.py", "relative-link")
        os.symlink("../../shared/weights", "weights")            # climbs out of the project: kept as it is
        os.symlink("no-such-file", "dangling-link")
        os.symlink(b"caf\\xe9", b"link-to-latin")
        os.link("helper.py", "helper-hardlink.py")
        os.mkfifo("pipe")
        socket.socket(socket.AF_UNIX).bind("app.sock")         # a socket a dev server left behind
        with open("big.img", "wb") as f: f.truncate(20 << 30)    # 20 GiB, sparse, left out by .dockerignore
        """

    @Test func everyKindOfFileGoesIntoTheImageByteForByte() throws {
        let registry = try PipelineTests.registryWithBase()
        let dir = try TemporaryDirectory("awkward")
        defer { _ = try? runCommand(["rm", "-rf", dir.path]) }
        // A RUN step leaves the same kinds of files in its layer (the overlay upper dir goes through the scanner).
        try dir.write(
            "model/cog.yaml",
            """
            build:
              python_version: "3.11"
              run:
                - 'cd /opt && printf x > "$(printf "caf\\\\351")" && mkfifo step-fifo && ln -s ../../../shared step-up'
            predict: "predict.py:Predictor"
            """)
        try dir.write(
            "model/predict.py",
            "from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return 'x'\n"
        )
        try dir.write("model/helper.py", "HELP = 1\n", mode: 0o755)
        try dir.write("model/.dockerignore", "*.img\n")
        for name in PipelineTests.nonASCIINames { try dir.write("model/\(name)", name + "\n") }
        let made = try runCommand(["python3", "-c", Self.makeAwkwardFiles, "\(dir.path)/model"])
        #expect(made.status == 0, "\(made.output)")

        let build = try runCommand(
            [Self.cog, "build", "--oci-out", "\(dir.path)/out", "--progress", "plain"],
            environment: [
                "COG_REGISTRY_MIRRORS": "docker.io=\(registry.address)", "COG_CACHE_DIR": "\(dir.path)/cache",
            ],
            directory: "\(dir.path)/model")
        #expect(build.status == 0, "\(build.output.suffix(3000))")
        #expect(
            build.stderr.contains("warning: left out the socket /src/app.sock: a socket cannot be stored in an image"),
            "\(build.stderr.suffix(2000))")

        let unpack = try runCommand(
            ["umoci", "unpack"] + (isRoot ? [] : ["--rootless"])
                + ["--image", "\(dir.path)/out:latest", "\(dir.path)/bundle"])
        #expect(unpack.status == 0, "\(unpack.output)")
        // Owners are not compared: the project's files become root's in the image, as with Docker's COPY.
        let described = try runCommand([
            "python3", "\(packageRoot)/testdata/torture/describe-tree.py", "--no-owners", "\(dir.path)/model",
            "\(dir.path)/bundle/rootfs/src",
        ])
        #expect(described.status == 0, "\(described.stderr)")
        let trees = described.stdout.components(separatedBy: "== ").dropFirst().map {
            $0.split(separator: "\n").dropFirst().map(String.init)
        }
        let leftOut = ["big.img", "app.sock"].map { hex($0) + "\t" }
        let expected = trees[0].filter { line in !leftOut.contains { line.hasPrefix($0) } }
        let cogOwn = hex(".cog")  // the schema cog writes into /src
        let image = trees[1].filter { !$0.hasPrefix(cogOwn) }
        #expect(expected.count >= 20)
        #expect(image == expected, "\(Set(expected).symmetricDifference(image).sorted().prefix(6))")
        let step = try runCommand([
            "python3", "-c",
            """
            import os, stat, sys
            os.chdir(sys.argv[1])
            print(open(b"caf\\xe9").read(), stat.S_ISFIFO(os.lstat("step-fifo").st_mode), os.readlink("step-up"))
            """, "\(dir.path)/bundle/rootfs/opt",
        ])
        #expect(step.stdout == "x True ../../../shared\n", "\(step.output)")
    }

    @Test func anUnreadableFileIsNamedWithTheFix() throws {
        let dir = try TemporaryDirectory("unreadable")
        try dir.write("tree/ok.txt", "fine\n")
        try dir.write("tree/secret.bin", "private\n", mode: 0o600)
        var command = [try cogExecutable()]
        if isRoot {
            // Root reads everything: run as nobody, over a tree nobody can list but not read from.
            guard commandExists("setpriv") else { return }
            command = [
                "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                try copyForOtherUsers(executable: command[0], in: dir),
            ]
            _ = try runCommand(["chmod", "a+rwx", dir.path])  // after the copy, which made everything readable
            chmod("\(dir.path)/tree/secret.bin", 0o600)
        } else {
            chmod("\(dir.path)/tree/secret.bin", 0)
        }
        let result = try runCommand(command + ["layer", "\(dir.path)/tree", "--store", "\(dir.path)/store"])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "cannot read \(dir.path)/tree/secret.bin to archive it (open: Permission denied); make it readable (chmod a+r) or leave it out with .dockerignore"
            ), "\(result.stderr)")
    }
}

/// A name's bytes in hex, as the describer prints names.
private func hex(_ name: String) -> String { name.utf8.map { String(format: "%02x", $0) }.joined() }
