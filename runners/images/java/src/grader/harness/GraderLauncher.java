package grader.harness;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.UniqueId;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The grader's JUnit Platform runner (one JVM: compile, then run).
 *
 * <p>Usage: {@code GraderLauncher SRC WORK TEST_SECONDS SENTINEL(0|1) TEST_FILE...}. It
 * reads the run token from fd 4 before any candidate class exists, compiles the
 * submission's sources, then each test file on its own (a test file that does not
 * compile costs only its own tests), runs the test classes on the JUnit Platform
 * and writes {@code <testsuite>} elements, each carrying the token, to fd 3. A
 * shutdown hook writes what is known when candidate code calls System.exit: the
 * tests that were running are reported as errors.
 */
public final class GraderLauncher {
  static final String SENTINEL_CLASS = "grader.harness.GraderSentinelTest";
  static final int MAX_TEXT = 8 * 1024;

  private final String token;
  private final Map<String, String> classFile = new ConcurrentHashMap<>();
  private final Map<String, Case> cases = new LinkedHashMap<>();
  private final Set<String> running = ConcurrentHashMap.newKeySet();
  private final List<String> buildFailures = new ArrayList<>();
  private final AtomicBoolean written = new AtomicBoolean();
  private TestPlan plan;

  private GraderLauncher(String token) {
    this.token = token;
  }

  static final class Case {
    String classname;
    String name;
    String file;
    String status; // passed failed error skipped
    String message = "";
    String detail = "";
    long started = System.nanoTime();
    double seconds;
  }

  public static void main(String[] args) throws Exception {
    String token = readAll("/dev/fd/4").trim();
    GraderLauncher g = new GraderLauncher(token);
    Runtime.getRuntime().addShutdownHook(
        new Thread(() -> g.writeOnce(true), "grader-results"));
    int code = g.run(Paths.get(args[0]), Paths.get(args[1]), Integer.parseInt(args[2]),
        "1".equals(args[3]), List.of(args).subList(4, args.length));
    g.writeOnce(false);
    System.out.flush();
    Runtime.getRuntime().halt(code);
  }

  static String readAll(String path) {
    // A plain read loop: readNBytes seeks first, which fails on a pipe in JDK 21.
    try (InputStream in = new FileInputStream(path)) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      byte[] chunk = new byte[256];
      int n;
      while (buf.size() < 4096 && (n = in.read(chunk)) > 0) {
        buf.write(chunk, 0, n);
      }
      return buf.toString(StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return "";
    }
  }

  int run(Path src, Path work, int testSeconds, boolean sentinel, List<String> tests)
      throws IOException {
    Path mainOut = work.resolve("classes");
    Files.createDirectories(mainOut);
    Set<Path> testPaths = tests.stream().map(t -> src.resolve(t).normalize())
        .collect(Collectors.toSet());
    List<Path> mainSources = new ArrayList<>();
    // Helpers beside the tests in the Maven layout (src/test/..., not test files):
    // compiled once, on every test file's class path.
    List<Path> supportSources = new ArrayList<>();
    try (Stream<Path> s = Files.walk(src)) {
      s.filter(p -> p.toString().endsWith(".java") && Files.isRegularFile(p))
          .filter(p -> !testPaths.contains(p.normalize())).sorted()
          .forEach(p -> (src.relativize(p).toString().startsWith("src/test/")
              ? supportSources : mainSources).add(p));
    }
    String libs = System.getProperty("java.class.path");
    if (!mainSources.isEmpty()) {
      String log = compile(mainSources, mainOut, libs);
      if (log != null) {
        buildFailures.add(buildSuite("", log));
        return 2;
      }
    }
    List<URL> urls = new ArrayList<>();
    urls.add(mainOut.toUri().toURL());
    String testPath = mainOut + ":" + libs;
    String supportLog = "";
    if (!supportSources.isEmpty()) {
      Path supportOut = work.resolve("test-support");
      Files.createDirectories(supportOut);
      String log = compile(supportSources, supportOut, testPath);
      if (log == null) {
        urls.add(supportOut.toUri().toURL());
        testPath = supportOut + ":" + testPath;
      } else {
        supportLog = "the helpers beside the tests do not compile against the submission:\n"
            + log + "\n";
      }
    }
    List<String> testClasses = new ArrayList<>();
    int i = 0;
    for (String t : tests) {
      Path out = work.resolve("test-classes").resolve(Integer.toString(i++));
      Files.createDirectories(out);
      String log = compile(List.of(src.resolve(t)), out, testPath);
      if (log != null) {
        buildFailures.add(buildSuite(t, supportLog + log));
        continue;
      }
      urls.add(out.toUri().toURL());
      try (Stream<Path> s = Files.walk(out)) {
        for (Path c : (Iterable<Path>) s.filter(p -> p.toString().endsWith(".class"))::iterator) {
          String rel = out.relativize(c).toString();
          String cls = rel.substring(0, rel.length() - 6).replace('/', '.');
          classFile.put(cls.split("\\$")[0], t);
          if (!cls.contains("$")) {
            testClasses.add(cls);
          }
        }
      }
    }
    ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]),
        GraderLauncher.class.getClassLoader());
    Thread.currentThread().setContextClassLoader(loader);
    LauncherDiscoveryRequestBuilder req = LauncherDiscoveryRequestBuilder.request()
        .configurationParameter("junit.jupiter.execution.timeout.default", testSeconds + " s")
        .configurationParameter("junit.jupiter.execution.timeout.thread.mode.default",
            "SEPARATE_THREAD")
        .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "false");
    for (String cls : testClasses) {
      req.selectors(DiscoverySelectors.selectClass(loader, cls));
    }
    if (sentinel) {
      req.selectors(DiscoverySelectors.selectClass(SENTINEL_CLASS));
    }
    LauncherDiscoveryRequest request = req.build();
    Launcher launcher = LauncherFactory.create();
    launcher.execute(request, new Listener());
    return cases.values().stream().allMatch(c -> "passed".equals(c.status)) ? 0 : 1;
  }

  static String compile(List<Path> sources, Path out, String classpath) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    List<String> args = new ArrayList<>(List.of("-d", out.toString(), "-cp", classpath,
        "-encoding", "UTF-8", "-proc:none", "-implicit:none", "-g", "-nowarn",
        "-Xlint:none", "-Xmaxerrs", "50"));
    for (Path p : sources) {
      args.add(p.toString());
    }
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    int rc = javac.run(null, log, log, args.toArray(new String[0]));
    return rc == 0 ? null : log.toString(StandardCharsets.UTF_8);
  }

  final class Listener implements TestExecutionListener {
    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
      plan = testPlan;
    }

    @Override
    public void executionStarted(TestIdentifier id) {
      if (id.isTest()) {
        Case c = caseFor(id);
        c.started = System.nanoTime();
        running.add(id.getUniqueId());
      }
    }

    @Override
    public void executionSkipped(TestIdentifier id, String reason) {
      for (TestIdentifier t : testsUnder(id)) {
        Case c = caseFor(t);
        if (c.status == null) {
          c.status = "skipped";
          c.message = reason == null ? "" : reason;
        }
      }
    }

    @Override
    public void executionFinished(TestIdentifier id, TestExecutionResult result) {
      running.remove(id.getUniqueId());
      if (id.isTest()) {
        Case c = caseFor(id);
        c.seconds = (System.nanoTime() - c.started) / 1e9;
        record(c, result);
      } else if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL) {
        // A class whose set-up or initialiser failed: its tests that never ran.
        for (TestIdentifier t : testsUnder(id)) {
          Case c = caseFor(t);
          if (c.status == null) {
            record(c, result);
            c.status = "error";
          }
        }
      }
    }
  }

  private List<TestIdentifier> testsUnder(TestIdentifier id) {
    List<TestIdentifier> out = new ArrayList<>();
    if (id.isTest()) {
      out.add(id);
    }
    if (plan != null) {
      for (TestIdentifier d : plan.getDescendants(id)) {
        if (d.isTest()) {
          out.add(d);
        }
      }
    }
    return out;
  }

  private static void record(Case c, TestExecutionResult result) {
    switch (result.getStatus()) {
      case SUCCESSFUL:
        c.status = "passed";
        return;
      case ABORTED:
        c.status = "skipped";
        break;
      default:
        Optional<Throwable> t = result.getThrowable();
        c.status = t.isPresent() && t.get() instanceof AssertionError ? "failed" : "error";
    }
    result.getThrowable().ifPresent(t -> {
      c.message = t.getClass().getName() + ": " + String.valueOf(t.getMessage());
      StringWriter sw = new StringWriter();
      t.printStackTrace(new PrintWriter(sw));
      c.detail = sw.toString();
    });
  }

  private synchronized Case caseFor(TestIdentifier id) {
    return cases.computeIfAbsent(id.getUniqueId(), k -> {
      Case c = new Case();
      String cls = "";
      String method = id.getDisplayName();
      Optional<?> src = id.getSource();
      if (src.isPresent() && src.get() instanceof MethodSource) {
        MethodSource ms = (MethodSource) src.get();
        cls = ms.getClassName();
        method = ms.getMethodName();
      } else if (src.isPresent() && src.get() instanceof ClassSource) {
        cls = ((ClassSource) src.get()).getClassName();
      }
      StringBuilder name = new StringBuilder(method);
      boolean afterMethod = false;
      for (UniqueId.Segment seg : UniqueId.parse(id.getUniqueId()).getSegments()) {
        String type = seg.getType();
        if (type.equals("method") || type.equals("test-template")
            || type.equals("test-factory")) {
          afterMethod = true;
        } else if (afterMethod) {
          name.append('[').append(seg.getValue().replace("#", "")).append(']');
        }
      }
      c.name = name.toString();
      String outer = cls.split("\\$")[0];
      if (outer.equals(SENTINEL_CLASS)) {
        c.classname = "grader.sentinel";
        c.file = "<sentinel>";
      } else {
        c.classname = cls;
        c.file = classFile.getOrDefault(outer, "");
      }
      return c;
    });
  }

  private String buildSuite(String file, String log) {
    StringBuilder sb = new StringBuilder();
    sb.append("<testsuite name=\"").append(esc(file.isEmpty() ? "(build)" : file))
        .append("\" tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\"><properties>");
    prop(sb, "grader_run", token);
    prop(sb, "grader_build", "failed");
    if (!file.isEmpty()) {
      prop(sb, "grader_build_file", file);
    }
    sb.append("</properties><system-err>").append(esc(cut(log, 64 * 1024)))
        .append("</system-err></testsuite>\n");
    return sb.toString();
  }

  /**
   * Writes the results once: at the end, or from the shutdown hook on System.exit
   * ({@code stopped}: the run ended early, which a suite of its own says).
   */
  void writeOnce(boolean stopped) {
    if (!written.compareAndSet(false, true)) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    for (String b : buildFailures) {
      sb.append(b);
    }
    Map<String, List<Case>> byClass = new LinkedHashMap<>();
    List<String> during = new ArrayList<>();
    synchronized (this) {
      for (Map.Entry<String, Case> e : cases.entrySet()) {
        Case c = e.getValue();
        if (c.status == null && running.contains(e.getKey())) {
          c.status = "error";
          c.message = "the JVM exited while this test ran (System.exit or a crash)";
          during.add(c.classname + "." + c.name);
        }
        if (c.status != null) {
          byClass.computeIfAbsent(c.classname, k -> new ArrayList<>()).add(c);
        }
      }
    }
    for (Map.Entry<String, List<Case>> e : byClass.entrySet()) {
      List<Case> list = e.getValue();
      long failures = list.stream().filter(c -> c.status.equals("failed")).count();
      long errors = list.stream().filter(c -> c.status.equals("error")).count();
      long skipped = list.stream().filter(c -> c.status.equals("skipped")).count();
      sb.append("<testsuite name=\"").append(esc(e.getKey())).append("\" tests=\"")
          .append(list.size()).append("\" failures=\"").append(failures)
          .append("\" errors=\"").append(errors).append("\" skipped=\"").append(skipped)
          .append("\"><properties>");
      prop(sb, "grader_run", token);
      sb.append("</properties>\n");
      for (Case c : list) {
        sb.append(" <testcase classname=\"").append(esc(c.classname)).append("\" name=\"")
            .append(esc(c.name)).append("\" file=\"").append(esc(c.file)).append("\" time=\"")
            .append(String.format(Locale.ROOT, "%.3f", c.seconds)).append("\"");
        if (c.status.equals("passed")) {
          sb.append("/>\n");
          continue;
        }
        String tag = c.status.equals("failed") ? "failure"
            : c.status.equals("error") ? "error" : "skipped";
        sb.append("><").append(tag).append(" message=\"").append(esc(cut(c.message, 500)))
            .append("\">").append(esc(cut(c.detail, MAX_TEXT))).append("</").append(tag)
            .append("></testcase>\n");
      }
      sb.append("</testsuite>\n");
    }
    if (stopped) {
      String where = !during.isEmpty() ? "during " + String.join(", ", during)
          : cases.isEmpty() ? "before any test ran" : "between tests";
      sb.append("<testsuite name=\"grader.stopped\" tests=\"0\" failures=\"0\" errors=\"0\""
          + " skipped=\"0\"><properties>");
      prop(sb, "grader_run", token);
      prop(sb, "grader_stopped", cut("the JVM exited " + where
          + "; the tests after it did not run", 2000));
      sb.append("</properties></testsuite>\n");
    }
    try (OutputStream out = new FileOutputStream("/dev/fd/3")) {
      out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      System.err.println("grader: cannot write the results: " + e);
    }
  }

  private static void prop(StringBuilder sb, String name, String value) {
    sb.append("<property name=\"").append(esc(name)).append("\" value=\"").append(esc(value))
        .append("\"/>");
  }

  static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max / 2) + "\n[...]\n"
        + s.substring(s.length() - max / 2);
  }

  static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '&': sb.append("&amp;"); break;
        case '<': sb.append("&lt;"); break;
        case '>': sb.append("&gt;"); break;
        case '"': sb.append("&quot;"); break;
        default:
          if (ch >= 0x20 || ch == '\n' || ch == '\t' || ch == '\r') {
            if (Character.isSurrogate(ch)) {
              if (Character.isHighSurrogate(ch) && i + 1 < s.length()
                  && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(ch).append(s.charAt(++i));
              }
            } else if (ch != 0xFFFE && ch != 0xFFFF) {
              sb.append(ch);
            }
          }
      }
    }
    return sb.toString();
  }
}
