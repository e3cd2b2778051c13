# frozen_string_literal: true

run ->(env) { [env['PATH_INFO'] == '/healthz' ? 200 : 404, {}, []] }
