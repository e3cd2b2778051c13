# frozen_string_literal: true

# What the grader's Minitest plugin and RSpec formatter share: the run token, read
# from fd 4 when this file loads (before any test file, so before candidate code),
# and the JUnit XML they write to fd 3 (see runners/images/base/grader_driver.py).
module GraderResults
  TOKEN = begin
    File.binread("/dev/fd/4", 4096).to_s.strip
  rescue SystemCallError, IOError
    ""
  end
  begin
    IO.for_fd(4, autoclose: true).close
  rescue SystemCallError, IOError, ArgumentError
    nil
  end
  OUT = begin
    IO.for_fd(3, "wb", autoclose: false)
  rescue SystemCallError, ArgumentError
    nil
  end
  SRC = ENV.fetch("GRADER_SRC", Dir.pwd)
  SENTINEL_DIR = "/opt/grader/ruby/sentinel/"
  MAX_TEXT = 8 * 1024

  Case = Struct.new(:file, :classname, :name, :status, :message, :detail, :time)

  module_function

  def esc(text)
    text.to_s.encode("UTF-8", invalid: :replace, undef: :replace)
        .gsub(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/, "")
        .gsub("&", "&amp;").gsub("<", "&lt;").gsub(">", "&gt;").gsub('"', "&quot;")
  end

  def cut(text, max = MAX_TEXT)
    text = text.to_s
    text.length <= max ? text : "#{text[0, max / 2]}\n[...]\n#{text[-max / 2..]}"
  end

  def relative(path)
    return "<sentinel>" if path.to_s.start_with?(SENTINEL_DIR)

    full = File.expand_path(path.to_s)
    prefix = "#{File.expand_path(SRC)}/"
    full.start_with?(prefix) ? full.delete_prefix(prefix) : path.to_s
  end

  # A failure's summary and detail; an exception whose message cannot be read (it
  # raises, or is not a string) still gives a summary.
  def describe(error)
    message = error.message.to_s
    ["#{error.class}: #{message}", [message, *Array(error.backtrace).first(20)].join("\n")]
  rescue Exception => e # rubocop:disable Lint/RescueException -- anything the code raised
    ["#{error.class.name} (its message could not be read: #{e.class.name})", ""]
  end

  def prop(name, value)
    %(<property name="#{esc(name)}" value="#{esc(value)}"/>)
  end

  # Suites are grouped by test file; load errors become build-failed suites.
  def write(cases, load_errors)
    out = +""
    load_errors.each do |file, message|
      out << %(<testsuite name="#{esc(file)}" tests="0" failures="0" errors="0" skipped="0">)
      out << "<properties>#{prop('grader_run', TOKEN)}#{prop('grader_build', 'failed')}"
      out << "#{prop('grader_build_file', file)}</properties>"
      out << "<system-err>#{esc(cut(message, 64 * 1024))}</system-err></testsuite>\n"
    end
    cases.group_by(&:file).each do |file, list|
      counts = Hash.new(0)
      list.each { |c| counts[c.status] += 1 }
      out << %(<testsuite name="#{esc(file)}" tests="#{list.size}" failures="#{counts[:failed]}" )
      out << %(errors="#{counts[:error]}" skipped="#{counts[:skipped]}">)
      out << "<properties>#{prop('grader_run', TOKEN)}</properties>\n"
      list.each do |c|
        attrs = %(classname="#{esc(c.classname)}" name="#{esc(c.name)}" file="#{esc(c.file)}" ) +
                %(time="#{format('%.3f', c.time.to_f)}")
        tag = { failed: "failure", error: "error", skipped: "skipped" }[c.status]
        if tag
          out << %( <testcase #{attrs}><#{tag} message="#{esc(cut(c.message, 500))}">)
          out << "#{esc(cut(c.detail))}</#{tag}></testcase>\n"
        else
          out << " <testcase #{attrs}/>\n"
        end
      end
      out << "</testsuite>\n"
    end
    return unless OUT

    OUT.write(out)
    OUT.flush
  rescue SystemCallError, IOError => e
    warn "grader: cannot write the results: #{e}"
  end
end
