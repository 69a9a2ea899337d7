// spdlog's compiled part, built into gpt2_core instead of loading Debian's libspdlog.so: that
// library's 1,193 symbol relocations were a third of the dynamic loader's work at every start
// (`gpt2 tokenize hello`: 3.8 to 2.5 million instructions). The headers are used as Debian's
// spdlog::spdlog target compiles them (SPDLOG_COMPILED_LIB: declarations only; core/CMakeLists.txt
// takes its definitions, not its library); this file is what spdlog's own src/spdlog.cpp and
// src/stdout_sinks.cpp and src/color_sinks.cpp compile, reduced to what core/log.cpp uses. Header-only spdlog instead
// would compile all of it in every file that logs (twice the compile time of each).
#ifndef SPDLOG_COMPILED_LIB
#error SPDLOG_COMPILED_LIB must be defined (core/CMakeLists.txt)
#endif

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

#include <mutex>

template class SPDLOG_API spdlog::sinks::base_sink<std::mutex>;
template class SPDLOG_API spdlog::sinks::base_sink<spdlog::details::null_mutex>;
// the registry's default logger (replaced by core/log.cpp's at start)
template class SPDLOG_API spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>;
template class SPDLOG_API spdlog::sinks::ansicolor_stdout_sink<spdlog::details::console_mutex>;
template class SPDLOG_API spdlog::sinks::stdout_sink_base<spdlog::details::console_nullmutex>;
template class SPDLOG_API spdlog::sinks::stderr_sink<spdlog::details::console_nullmutex>;
template SPDLOG_API std::shared_ptr<spdlog::logger> spdlog::stderr_logger_st<spdlog::synchronous_factory>(
    const std::string& logger_name);
