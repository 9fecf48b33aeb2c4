// The Scala REPL of one local Glue session (glue_magics.local.scala compiles this file once
// into a cache and runs it): the JSON-lines protocol of glue_magics.local.worker, with
// statements interpreted by the Scala compiler's own REPL (IMain) bound to this session's
// Spark, as Apache Livy's SparkInterpreter does (repl/src/main/scala*/SparkInterpreter.scala).
//
// Commands arrive as JSON lines on stdin ({"id": 1, "code": "..."}); events leave as JSON
// lines on the endpoint's event pipe (argv(0), a /proc/self/fd path): ready, progress,
// spark_ui, result.  SIGINT cancels the running statement: its Spark jobs are cancelled and
// its thread interrupted.  stdin's end (the endpoint gone or the session ended) ends us.
package gluemagics.scala

import java.io.{BufferedReader, ByteArrayInputStream, ByteArrayOutputStream, File}
import java.io.{FileDescriptor, FileInputStream, FileOutputStream, InputStreamReader}
import java.io.{PrintStream, PrintWriter}
import java.nio.charset.StandardCharsets.UTF_8
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.atomic.AtomicBoolean

import scala.jdk.CollectionConverters._
import scala.tools.nsc.Settings
import scala.tools.nsc.interpreter.{IMain, Results}
import scala.tools.nsc.interpreter.shell.ReplReporterImpl

import com.fasterxml.jackson.databind.ObjectMapper
import org.apache.spark.SparkConf
import org.apache.spark.sql.SparkSession

object Worker {
  private val json = new ObjectMapper()
  @volatile private var active: SparkSession = _

  /** The session's Spark, for the REPL's `spark` (bound at start). */
  def spark: SparkSession = active

  private def log(message: String): Unit = {
    val stamp = new java.text.SimpleDateFormat("yy/MM/dd HH:mm:ss").format(new java.util.Date)
    System.err.println(s"$stamp INFO GlueScalaWorker: $message")
  }

  def main(args: Array[String]): Unit = {
    val events = new Events(args(0))
    val commands = new LinkedBlockingQueue[Option[java.util.Map[String, AnyRef]]]()
    val stdin = new BufferedReader(new InputStreamReader(new FileInputStream(FileDescriptor.in), UTF_8))
    System.setIn(new ByteArrayInputStream(Array.emptyByteArray)) // statements read nothing
    val reader = new Thread(() => {
      var line = stdin.readLine()
      while (line != null) {
        try commands.put(Some(json.readValue(line, classOf[java.util.Map[String, AnyRef]])))
        catch { case _: Exception => () }
        line = stdin.readLine()
      }
      ended()
    }, "glue-commands")
    reader.setDaemon(true)
    reader.start()

    val outdir = java.nio.file.Files.createTempDirectory("glue-scala-repl").toFile
    outdir.deleteOnExit()
    val session = sys.env.getOrElse("GLUE_MAGICS_SESSION_ID", "glue")
    // The compiler and Spark start side by side: each takes seconds, the machine may have two cores.
    val starting = new Thread(() => active = startSpark(session, outdir), "glue-spark-start")
    starting.start()
    val repl = new Repl(outdir)
    starting.join()
    if (active == null) {
      log("Spark did not start")
      sys.exit(1)
    }
    repl.bindSpark()
    val runner = new Runner(repl, events)
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), _ => runner.cancel())
    log(s"Scala REPL of session $session ready: pid ${ProcessHandle.current.pid}, " +
      s"Scala ${scala.util.Properties.versionNumberString}, Spark ${active.version}")
    events.send(Map("event" -> "ready", "pid" -> ProcessHandle.current.pid))
    while (true) {
      commands.take() match {
        case Some(command) =>
          val id = command.get("id").toString.toInt
          val code = String.valueOf(command.get("code"))
          log(s"statement $id started")
          val began = System.nanoTime()
          val result = runner.run(id, code)
          log(f"statement $id ${result("status")} in ${(System.nanoTime() - began) / 1e9}%.3f s")
          runner.sparkUi().foreach(events.send)
          events.send(result)
        case None => ended()
      }
    }
  }

  /** The endpoint closed our stdin: end now, giving Spark's shutdown hooks a moment. */
  private def ended(): Unit = {
    val halt = new Thread(() => { Thread.sleep(5000); Runtime.getRuntime.halt(0) })
    halt.setDaemon(true)
    halt.start()
    sys.exit(0)
  }

  private def startSpark(session: String, outdir: File): SparkSession = {
    try {
      val conf = new SparkConf()
        .setMaster(sys.env.getOrElse("GLUE_MAGICS_SPARK_MASTER", "local[*]"))
        .setAppName(session)
        // a free port: sessions and other Sparks share this machine (SPARK_LOCAL_IP: loopback)
        .set("spark.ui.port", "0")
        // executors load the REPL's classes from here, as Spark's own shell sets it
        .set("spark.repl.class.outputDir", outdir.getAbsolutePath)
      SparkSession.builder().config(conf).getOrCreate()
    } catch {
      case e: Throwable =>
        e.printStackTrace()
        null
    }
  }

  private[scala] def toJson(value: Any): AnyRef = value match {
    case m: Map[_, _] =>
      val out = new java.util.LinkedHashMap[String, AnyRef]()
      m.foreach { case (k, v) => out.put(k.toString, toJson(v)) }
      out
    case s: Seq[_] => s.map(toJson).asJava
    case null => null
    case v: AnyRef => v
    case v => v.asInstanceOf[AnyRef]
  }

  /** The endpoint's event pipe; one write per event, so lines never interleave. */
  class Events(path: String) {
    private val out = new FileOutputStream(path)
    def send(event: Map[String, Any]): Unit = synchronized {
      out.write((json.writeValueAsString(toJson(event)) + "\n").getBytes(UTF_8))
      out.flush()
    }
  }
}

/** The compiler's REPL, its output (REPL lines and what statements print) in one buffer. */
class Repl(outdir: File) {
  val buffer = new ByteArrayOutputStream()
  private val writer = new PrintWriter(new java.io.OutputStreamWriter(buffer, UTF_8), true)
  val settings = new Settings()
  settings.processArguments(
    List("-Yrepl-class-based", "-Yrepl-outdir", outdir.getAbsolutePath), processAll = true)
  settings.usejavacp.value = true
  val intp = new IMain(settings, new ReplReporterImpl(settings, writer))
  intp.initializeCompiler() // now, not at the first statement
  quietly("import scala.Predef._") // compiles a line (the compiler warms up), defines nothing

  def quietly(code: String): Unit = {
    intp.beQuietDuring(intp.interpret(code))
    writer.flush()
    buffer.reset()
  }

  def bindSpark(): Unit = {
    quietly("@transient val spark = gluemagics.scala.Worker.spark")
    quietly("@transient val sc = spark.sparkContext")
    quietly("import org.apache.spark.SparkContext._")
    quietly("import spark.implicits._")
    quietly("import spark.sql")
    quietly("import org.apache.spark.sql.functions._")
  }

  def interpret(code: String): Results.Result = {
    val result = intp.interpret(code)
    writer.flush()
    result
  }

  def pending(): String = { writer.flush(); buffer.toString(UTF_8) }

  def output(): String = {
    writer.flush()
    val text = buffer.toString(UTF_8)
    buffer.reset()
    text
  }
}

/** Runs statements on the main thread; a cancel (SIGINT) stops its Spark jobs and interrupts it. */
class Runner(repl: Repl, events: Worker.Events) {
  private val running = new AtomicBoolean(false)
  private val cancelled = new AtomicBoolean(false)
  @volatile private var thread: Thread = _
  @volatile private var current: Int = -1
  private var count = 0
  private var shownUi: Option[String] = None

  def cancel(): Unit = if (running.get) {
    cancelled.set(true)
    Option(Worker.spark).foreach(_.sparkContext.cancelAllJobs())
    Option(thread).foreach(_.interrupt())
  }

  def run(id: Int, code: String): Map[String, Any] = {
    count += 1
    current = id
    cancelled.set(false)
    thread = Thread.currentThread()
    val capture = new PrintStream(repl.buffer, true, UTF_8)
    val saved = System.out
    val progress = new Progress(id, events)
    progress.start()
    running.set(true)
    val result = try {
      System.setOut(capture)
      Console.withOut(capture) {
        repl.interpret(code) match {
          // As Livy's executeLines: input the REPL finds incomplete (or that only comments
          // made it reject) is tried once in braces; a comment then succeeds, "val y =" not.
          case Results.Incomplete | Results.Error if repl.pending().trim.isEmpty =>
            repl.output()
            repl.interpret(s"{\n$code\n}") match {
              case Results.Success => Results.Success
              case _ => repl.output(); Results.Incomplete
            }
          case other => other
        }
      }
    } finally {
      running.set(false)
      System.setOut(saved)
      progress.interrupt()
      Thread.interrupted() // a cancel that came late must not reach the next statement
    }
    capture.flush()
    val text = repl.output()
    val base = Map("event" -> "result", "id" -> id, "count" -> count)
    result match {
      case Results.Success if !cancelled.get => base ++ Map("status" -> "ok", "stdout" -> text)
      case Results.Incomplete =>
        // Livy (Session.scala): an incomplete statement is an error, "incomplete statement"
        base ++ Errors.incomplete(text)
      case _ => base ++ Errors.parse(text, repl.intp) ++
        (if (cancelled.get) Map("cancelled" -> true) else Map.empty)
    }
  }

  /** A spark_ui event when Spark's UI changed since the last one. */
  def sparkUi(): Option[Map[String, Any]] = {
    val url = Option(Worker.spark).flatMap(_.sparkContext.uiWebUrl)
    if (url == shownUi) None
    else {
      shownUi = url
      Some(Map("event" -> "spark_ui", "url" -> url.orNull))
    }
  }
}

/** The running statement's progress: its Spark stages' finished tasks over all their tasks. */
class Progress(id: Int, events: Worker.Events) extends Thread("glue-progress") {
  setDaemon(true)
  override def run(): Unit = {
    var last = -1.0
    try {
      while (true) {
        Thread.sleep(500)
        Option(Worker.spark).foreach { spark =>
          val tracker = spark.sparkContext.statusTracker
          val stages = tracker.getActiveStageIds().flatMap(tracker.getStageInfo(_))
          val total = stages.map(_.numTasks).sum
          if (total > 0) {
            val value = stages.map(_.numCompletedTasks).sum.toDouble / total
            if (value != last) {
              last = value
              events.send(Map("event" -> "progress", "id" -> id, "value" -> value))
            }
          }
        }
      }
    } catch { case _: InterruptedException => () }
  }
}

/** The error fields of a statement that failed, from what the REPL printed. */
object Errors {
  def incomplete(text: String): Map[String, Any] = Map(
    "status" -> "error", "error_name" -> "Error", "error_value" -> "incomplete statement",
    "traceback" -> Seq.empty[String], "stdout" -> "")

  private var seen: AnyRef = _

  /** A runtime exception is the REPL's `lastException` (bound by IMain when a line throws):
    * its class, message and stack.  A compile error is Livy's shape (its parseError): name
    * "Error", the first line of the compiler's report as the value, the rest as traceback. */
  def parse(text: String, intp: IMain): Map[String, Any] = {
    val thrown = try intp.valueOfTerm("lastException") catch { case _: Throwable => None }
    thrown match {
      case Some(t: Throwable) if !(t eq seen) =>
        seen = t
        val stack = t.getStackTrace.takeWhile(!_.getClassName.contains("$eval")) // ours below
        val cut = text.lastIndexOf(t.toString) // what the statement printed before it threw
        Map("status" -> "error", "error_name" -> t.getClass.getName,
          "error_value" -> String.valueOf(t.getMessage),
          "traceback" -> (Seq(s"$t\n") ++ stack.map(f => s"\tat $f\n")),
          "stdout" -> (if (cut > 0) text.substring(0, cut) else ""))
      case _ =>
        // Scala 2.13's report puts the source line and a caret above "error: ..."
        val lines = text.split("(?<=\n)").toSeq.filter(_.trim.nonEmpty)
        val first = lines.find(_.contains("error:")).orElse(lines.headOption)
        Map("status" -> "error", "error_name" -> "Error",
          "error_value" -> first.map(_.trim).getOrElse("unknown error"),
          "traceback" -> lines, "stdout" -> "")
    }
  }
}
