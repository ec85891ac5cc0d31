# hopscope_bpf_skeleton(<name> <source.bpf.c>)
# Compiles a BPF program with clang (-target bpf) and turns it into a libbpf
# skeleton header with `bpftool gen skeleton`. Creates the INTERFACE target
# hopscope_bpf_<name> whose include directory holds <name>.skel.h; the object
# is embedded in the skeleton, nothing is loaded from a path at run time.
find_program(CLANG_EXE NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL_EXE NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
execute_process(COMMAND gcc -dumpmachine OUTPUT_VARIABLE HS_MULTIARCH OUTPUT_STRIP_TRAILING_WHITESPACE)

function(hopscope_bpf_skeleton name src)
  set(out_dir ${CMAKE_BINARY_DIR}/bpf)
  set(obj ${out_dir}/${name}.bpf.o)
  set(skel ${out_dir}/${name}.skel.h)
  file(GLOB bpf_headers ${PROJECT_SOURCE_DIR}/bpf/lib/*.h ${PROJECT_SOURCE_DIR}/include/hopscope/abi/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${CLANG_EXE} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86
            -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/bpf
            -I/usr/include/${HS_MULTIARCH}
            -c ${src} -o ${obj}
    DEPENDS ${src} ${bpf_headers}
    COMMENT "BPF ${name}")
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL_EXE} gen skeleton ${obj} name hs_${name} > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}")
  add_custom_target(hopscope_bpf_${name}_gen DEPENDS ${skel})
  add_library(hopscope_bpf_${name} INTERFACE)
  add_dependencies(hopscope_bpf_${name} hopscope_bpf_${name}_gen)
  target_include_directories(hopscope_bpf_${name} INTERFACE ${out_dir})
endfunction()
