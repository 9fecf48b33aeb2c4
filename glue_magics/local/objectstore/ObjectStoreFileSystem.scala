// glue-magics (Apache-2.0): s3://, s3a:// and s3n:// over the local object store.
//
// s3://BUCKET/KEY is the file ROOT/BUCKET/KEY, where ROOT is the Hadoop setting
// fs.glue-magics.objectstore.root (the endpoint's DATA_DIR/s3).  Reads, listings and
// renames go to Hadoop's RawLocalFileSystem (no .crc files); paths come back in the
// caller's scheme, so input_file_name() and error messages say s3://.  A file written
// here appears whole or not at all: it is written under ROOT/.glue-magics/tmp and moved
// into place when the stream closes, as an S3 object appears when its upload completes.
// A bucket is a directory of ROOT; a path in a bucket that does not exist is not found.
package gluemagics.objectstore

import java.io.{FileNotFoundException, IOException, OutputStream}
import java.net.URI
import java.nio.file.{Files, StandardCopyOption, Paths => JPaths}
import java.util.UUID

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{
  DelegateToFileSystem, FileAlreadyExistsException, FileStatus, FileSystem,
  FSDataInputStream, FSDataOutputStream, ParentNotDirectoryException, Path,
  RawLocalFileSystem
}
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.util.Progressable

object ObjectStoreFileSystem {
  val RootKey = "fs.glue-magics.objectstore.root"
  val Hidden = ".glue-magics"
}

class ObjectStoreFileSystem extends FileSystem {
  import ObjectStoreFileSystem._

  private var uri: URI = _
  private var scheme: String = _
  private var bucket: String = _
  private var root: String = _
  private var local: RawLocalFileSystem = _
  private var workingDir: Path = _

  override def initialize(name: URI, conf: Configuration): Unit = {
    super.initialize(name, conf)
    setConf(conf)
    scheme = name.getScheme
    bucket = name.getAuthority
    if (bucket == null || bucket.isEmpty)
      throw new IOException(s"$name names no bucket; use $scheme://BUCKET/KEY")
    val configured = conf.get(RootKey)
    if (configured == null || configured.isEmpty)
      throw new IOException(s"$RootKey is not set: the local object store's directory is unknown")
    root = JPaths.get(configured).toAbsolutePath.normalize.toString
    uri = URI.create(s"$scheme://$bucket/")
    local = new RawLocalFileSystem()
    local.initialize(URI.create("file:///"), conf)
    workingDir = new Path(s"$scheme://$bucket/")
  }

  override def getScheme: String = scheme
  override def getUri: URI = uri
  override def getWorkingDirectory: Path = workingDir
  override def setWorkingDirectory(dir: Path): Unit = { workingDir = qualify(dir) }
  override def getCanonicalServiceName: String = null
  override def getDefaultBlockSize(f: Path): Long = 32L * 1024 * 1024

  private def bucketDir: String = root + "/" + bucket

  private def qualify(p: Path): Path = p.makeQualified(uri, workingDir)

  /** The key of a path of this bucket: "" for its root, else "a/b". */
  private def key(p: Path): String = {
    val path = qualify(p).toUri.getPath
    path.stripPrefix("/").stripSuffix("/")
  }

  private def toLocal(p: Path): Path = {
    val k = key(p)
    new Path("file", null, if (k.isEmpty) bucketDir else bucketDir + "/" + k)
  }

  private def toRemote(p: Path): Path = {
    val path = p.toUri.getPath
    if (path == bucketDir) new Path(scheme, bucket, "/")
    else if (path.startsWith(bucketDir + "/"))
      new Path(scheme, bucket, path.substring(bucketDir.length))
    else throw new IOException(s"$p is outside the object store's bucket $bucket")
  }

  private def remote(s: FileStatus): FileStatus = {
    val r = new FileStatus(
      s.getLen, s.isDirectory, 1, getDefaultBlockSize(s.getPath), s.getModificationTime,
      s.getAccessTime, s.getPermission, s.getOwner, s.getGroup, toRemote(s.getPath))
    r
  }

  private def shown(p: Path): String = qualify(p).toString

  private def requireBucket(p: Path): Unit = {
    if (!Files.isDirectory(JPaths.get(bucketDir)))
      throw new FileNotFoundException(
        s"${shown(p)}: the bucket $bucket does not exist in the local object store ($root); " +
          s"create it first, e.g. boto3's create_bucket(Bucket='$bucket') in the session")
  }

  override def open(f: Path, bufferSize: Int): FSDataInputStream = {
    requireBucket(f)
    val target = toLocal(f)
    if (Files.isDirectory(JPaths.get(target.toUri.getPath)))
      throw new FileNotFoundException(s"${shown(f)} is a directory, not an object")
    try local.open(target, bufferSize)
    catch { case _: FileNotFoundException => throw new FileNotFoundException(s"${shown(f)}: no such object") }
  }

  override def create(
      f: Path, permission: FsPermission, overwrite: Boolean, bufferSize: Int,
      replication: Short, blockSize: Long, progress: Progressable): FSDataOutputStream = {
    requireBucket(f)
    val target = JPaths.get(toLocal(f).toUri.getPath)
    if (key(f).isEmpty || Files.isDirectory(target))
      throw new FileAlreadyExistsException(s"${shown(f)} is a directory")
    if (!overwrite && Files.exists(target))
      throw new FileAlreadyExistsException(s"${shown(f)} already exists")
    val parent = target.getParent
    if (Files.exists(parent) && !Files.isDirectory(parent))
      throw new ParentNotDirectoryException(s"${toRemote(new Path("file", null, parent.toString))} is an object, not a directory")
    val tmpDir = JPaths.get(root, Hidden, "tmp")
    Files.createDirectories(tmpDir)
    val tmp = tmpDir.resolve("hadoop-" + UUID.randomUUID())
    val out = new OutputStream {
      private val file = Files.newOutputStream(tmp)
      private var closed = false
      override def write(b: Int): Unit = file.write(b)
      override def write(b: Array[Byte], off: Int, len: Int): Unit = file.write(b, off, len)
      override def flush(): Unit = file.flush()
      override def close(): Unit = if (!closed) {
        closed = true
        file.close()
        try {
          Files.createDirectories(target.getParent)
          Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
        } finally Files.deleteIfExists(tmp)
      }
    }
    new FSDataOutputStream(out, statistics)
  }

  override def append(f: Path, bufferSize: Int, progress: Progressable): FSDataOutputStream =
    throw new UnsupportedOperationException(s"${shown(f)}: objects cannot be appended to, as in S3")

  override def rename(src: Path, dst: Path): Boolean = {
    requireBucket(src)
    if (qualify(dst).toUri.getAuthority != bucket)
      throw new IOException(s"cannot rename ${shown(src)} to $dst: another bucket")
    local.rename(toLocal(src), toLocal(dst))
  }

  override def delete(f: Path, recursive: Boolean): Boolean = {
    if (key(f).isEmpty) return false // a bucket's root is never deleted through a path
    if (!Files.isDirectory(JPaths.get(bucketDir))) return false
    local.delete(toLocal(f), recursive)
  }

  override def listStatus(f: Path): Array[FileStatus] = {
    requireBucket(f)
    try local.listStatus(toLocal(f)).map(remote)
    catch { case _: FileNotFoundException => throw new FileNotFoundException(s"${shown(f)}: no such object or prefix") }
  }

  override def mkdirs(f: Path, permission: FsPermission): Boolean = {
    requireBucket(f)
    local.mkdirs(toLocal(f), permission)
  }

  override def getFileStatus(f: Path): FileStatus = {
    requireBucket(f)
    try remote(local.getFileStatus(toLocal(f)))
    catch { case _: FileNotFoundException => throw new FileNotFoundException(s"${shown(f)}: no such object or prefix") }
  }

  override def setTimes(p: Path, mtime: Long, atime: Long): Unit = local.setTimes(toLocal(p), mtime, atime)
  override def setPermission(p: Path, permission: FsPermission): Unit = ()
  override def setOwner(p: Path, username: String, groupname: String): Unit = ()
  override def close(): Unit = { try local.close() finally super.close() }
}

/** The same file system for Hadoop's FileContext (Spark's streaming checkpoints use it). */
class ObjectStoreFs(theUri: URI, conf: Configuration)
    extends DelegateToFileSystem(theUri, new ObjectStoreFileSystem(), conf, theUri.getScheme, false)
