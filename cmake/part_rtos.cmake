# RT-Thread and FreeRTOS ports: they cannot run here, so CI compiles them
# (each port file, its msh command, and the core with the port's build
# options) for Cortex-M4 with arm-none-eabi-gcc against declaration-subset
# headers of each RTOS API (tests/rtos-api/), failing on any warning. The
# cross-compile does not depend on the host build's sanitizers, so it is
# registered in the plain build only (CI runs that once, not three times).
if(KMQTT_BUILD_TESTS AND NOT KMQTT_CORE_ONLY AND NOT KMQTT_SANITIZE AND NOT KMQTT_SANITIZE_THREAD)
  foreach(rtos rtthread freertos)
    add_test(NAME port.${rtos}.compile
             COMMAND sh ${PROJECT_SOURCE_DIR}/scripts/rtos_compile_check.sh ${PROJECT_SOURCE_DIR} ${rtos})
    set_tests_properties(port.${rtos}.compile PROPERTIES LABELS port TIMEOUT 300)
  endforeach()
endif()
