# hopscope_component(<name> SOURCES ... [DEPS <components>...] [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# One folder of userspace/ = one static library, hopscope_<name>, with the
# public headers in include/hopscope/<name>/. DEPS are other components; each
# must have been declared before this one (userspace/CMakeLists.txt declares
# them bottom-up), so the declared arrows can only point down and can never
# form a cycle. The list is also written to ${CMAKE_BINARY_DIR}/components.txt
# ("name: dep dep ...", in declaration order) for scripts/check-layers.sh,
# which checks that every #include follows these arrows.
set_property(GLOBAL PROPERTY HOPSCOPE_COMPONENTS "")
file(WRITE ${CMAKE_BINARY_DIR}/components.txt "")

function(hopscope_component name)
  cmake_parse_arguments(C "" "" "SOURCES;DEPS;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  get_property(declared GLOBAL PROPERTY HOPSCOPE_COMPONENTS)
  if(name IN_LIST declared)
    message(FATAL_ERROR "component ${name} declared twice")
  endif()
  foreach(dep IN LISTS C_DEPS)
    if(NOT dep IN_LIST declared)
      message(FATAL_ERROR "component ${name} depends on '${dep}', which is not declared below it "
                          "(components are declared bottom-up: an arrow may only point to an earlier one)")
    endif()
  endforeach()
  add_library(hopscope_${name} STATIC ${C_SOURCES})
  target_include_directories(hopscope_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  set(deps "")
  foreach(dep IN LISTS C_DEPS)
    list(APPEND deps hopscope_${dep})
  endforeach()
  target_link_libraries(hopscope_${name} PUBLIC ${deps} ${C_PUBLIC_LIBS} PRIVATE ${C_PRIVATE_LIBS})
  set_property(GLOBAL APPEND PROPERTY HOPSCOPE_COMPONENTS ${name})
  string(JOIN " " dep_text ${C_DEPS})
  file(APPEND ${CMAKE_BINARY_DIR}/components.txt "${name}: ${dep_text}\n")
endfunction()
